/* Capture the raw kernel verifier log of one program: loader OBJ LEVEL [PROG] [BUFSIZE].
 * Writes the log to stdout; exits 0 when the program was accepted, 1 when rejected. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJ LEVEL [PROG] [BUFSIZE]\n", argv[0]);
		return 2;
	}
	libbpf_set_print(quiet);
	size_t size = argc > 4 ? strtoul(argv[4], NULL, 0) : 64u << 20;
	char *buf = calloc(1, size);
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!buf || !obj) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 2;
	}
	struct bpf_program *prog, *target = NULL;
	bpf_object__for_each_program(prog, obj) {
		int chosen = argc > 3 && argv[3][0] ? strcmp(bpf_program__name(prog), argv[3]) == 0 : target == NULL;
		bpf_program__set_autoload(prog, chosen);
		if (chosen)
			target = prog;
	}
	if (!target) {
		fprintf(stderr, "no such program\n");
		return 2;
	}
	bpf_program__set_log_buf(target, buf, size);
	bpf_program__set_log_level(target, atoi(argv[2]));
	int err = bpf_object__load(obj);
	fwrite(buf, 1, strnlen(buf, size), stdout);
	fprintf(stderr, "load: %s\n", err ? strerror(-err) : "ok");
	bpf_object__close(obj);
	return err ? 1 : 0;
}
