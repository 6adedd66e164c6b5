// SYNTAX TEST "source.c" "BPF C injection: SEC, helpers, maps, verdicts, modifiers, CO-RE"
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
//        ^^^^^^^^^^^^^^^^^ string.quoted.other.lt-gt.include.c - support.function.helper.bpf

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
//  ^^^^^^ support.macro.map.bpf
//               ^^^^^^^^^^^^^^^^^ support.constant.map-type.bpf
    __uint(max_entries, 1024);
//  ^^^^^^ support.macro.map.bpf
    __type(key, __u32);
//  ^^^^^^ support.macro.map.bpf
    __type(value, __u64);
} counts SEC(".maps");
//       ^^^ meta.section.bpf keyword.other.section.bpf
//          ^ meta.section.bpf punctuation.section.parens.begin.bpf
//           ^ string.quoted.double.section.bpf punctuation.definition.string.begin.bpf
//            ^^^^^ string.quoted.double.section.bpf entity.name.section.bpf
//                 ^ string.quoted.double.section.bpf punctuation.definition.string.end.bpf
//                   ^ punctuation.terminator.statement.c - meta.section.bpf

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
//               ^^^^^^^^^^^^^^^^^^^^^^^^^^ support.constant.map-type.bpf
    __array(values, struct inner_map);
//  ^^^^^^^ support.macro.map.bpf
    __ulong(map_extra, 4);
//  ^^^^^^^ support.macro.map.bpf
} outer SEC(".maps");

const volatile __u32 target_ifindex = 0;
// <----- storage.modifier.bpf
//    ^^^^^^^^ storage.modifier.bpf
const __u32 plain_const = 1;
// <----- storage.modifier.c - storage.modifier.bpf
extern int LINUX_KERNEL_VERSION __kconfig;
//                              ^^^^^^^^^ storage.modifier.bpf
extern const void bpf_prog_active __ksym;
//                ^^^^^^^^^^^^^^^ - support.function.helper.bpf
//                                ^^^^^^ storage.modifier.bpf
int XDP_PASSED, TC_ACT, SK_PASSING, BPF_MAP_TYPE;
//  ^^^^^^^^^^ - support.constant.verdict.bpf
//              ^^^^^^ - support.constant.verdict.bpf
//                      ^^^^^^^^^^ - support.constant.verdict.bpf
//                                  ^^^^^^^^^^^^ - support.constant.map-type.bpf

#define DROP_IT() return XDP_DROP
//                       ^^^^^^^^ meta.preprocessor.macro.c support.constant.verdict.bpf
#define LOOKUP(k) bpf_map_lookup_elem(&counts, k)
//                ^^^^^^^^^^^^^^^^^^^ meta.preprocessor.macro.c support.function.helper.bpf
#if 0
    return bpf_redirect(1, 0);
//         ^^^^^^^^^^^^ comment.block.preprocessor.if-branch.c - support.function.helper.bpf
#endif
static long spaced(void) { return bpf_ktime_get_ns (); }
//                                ^^^^^^^^^^^^^^^^ support.function.helper.bpf

static __always_inline int parse(struct xdp_md *ctx)
//     ^^^^^^^^^^^^^^^ storage.modifier.bpf
//                         ^^^^^ entity.name.function.c
{
    struct bpf_sock *sk = 0;
//         ^^^^^^^^ - support.function.helper.bpf
    my_bpf_call(sk);
//  ^^^^^^^^^^^ - support.function.helper.bpf
    return bpf_get_prandom_u32() & 1;
//         ^^^^^^^^^^^^^^^^^^^ support.function.helper.bpf
}

static __noinline int sub(int x) { return x; }
//     ^^^^^^^^^^ storage.modifier.bpf

SEC("xdp")
// <--- meta.section.bpf keyword.other.section.bpf
//   ^^^ string.quoted.double.section.bpf entity.name.section.bpf
int xdp_count(struct xdp_md *ctx)
{
    __u32 key = 0;
    __u64 *val = bpf_map_lookup_elem(&counts, &key);
//               ^^^^^^^^^^^^^^^^^^^ support.function.helper.bpf
//                                  ^ - support.function.helper.bpf
//                                    ^^^^^^ - support.function.helper.bpf
    bpf_printk("bpf_map_lookup_elem(%d) SEC(\"x\")", key);
//  ^^^^^^^^^^ support.function.trace.bpf - support.function.helper.bpf
//              ^^^^^^^^^^^^^^^^^^^ string.quoted.double.c - support.function.helper.bpf
//                                      ^^^ string.quoted.double.c - keyword.other.section.bpf
    bpf_trace_printk(fmt, sizeof(fmt));
//  ^^^^^^^^^^^^^^^^ support.function.trace.bpf
    // bpf_map_update_elem(&counts, &key, val, BPF_ANY); SEC("tc") XDP_DROP
//     ^^^^^^^^^^^^^^^^^^^ comment.line.double-slash.c - support.function.helper.bpf
//                                                       ^^^ comment.line.double-slash.c - keyword.other.section.bpf
//                                                                 ^^^^^^^^ comment.line.double-slash.c - support.constant.verdict.bpf
    /* SEC("xdp") bpf_redirect(1, 0) __uint BPF_MAP_TYPE_HASH */
//     ^^^ comment.block.c - keyword.other.section.bpf
//                ^^^^^^^^^^^^ comment.block.c - support.function.helper.bpf
//                                   ^^^^^^ comment.block.c - support.macro.map.bpf
//                                          ^^^^^^^^^^^^^^^^^ comment.block.c - support.constant.map-type.bpf
    /*
     * bpf_tail_call(ctx, &jmp, 0);
//     ^^^^^^^^^^^^^ comment.block.c - support.function.helper.bpf
     */
    if (!val)
        return XDP_ABORTED;
//             ^^^^^^^^^^^ support.constant.verdict.bpf
    if (*val == 1)
        return XDP_TX;
//             ^^^^^^ support.constant.verdict.bpf
    if (*val == 2)
        return bpf_redirect(target_ifindex, 0) ? XDP_REDIRECT : XDP_ABORTED;
//             ^^^^^^^^^^^^ support.function.helper.bpf
//                                               ^^^^^^^^^^^^ support.constant.verdict.bpf
    return *val > 10 ? XDP_DROP : XDP_PASS;
//                     ^^^^^^^^ support.constant.verdict.bpf
//                                ^^^^^^^^ support.constant.verdict.bpf
}

SEC("kprobe/tcp_v4_connect")
//   ^^^^^^^^^^^^^^^^^^^^^ entity.name.section.bpf
int trace_connect(struct pt_regs *ctx)
{
    struct task_struct *task = (void *)bpf_get_current_task();
//                                     ^^^^^^^^^^^^^^^^^^^^ support.function.helper.bpf
    __u32 pid = BPF_CORE_READ(task, tgid);
//              ^^^^^^^^^^^^^ support.function.core.bpf
    BPF_CORE_READ_INTO(&pid, task, pid);
//  ^^^^^^^^^^^^^^^^^^ support.function.core.bpf
    if (!bpf_core_field_exists(task->pid))
//       ^^^^^^^^^^^^^^^^^^^^^ support.function.core.bpf - support.function.helper.bpf
        return 1;
    return 0;
}

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
    if (skb->len > 1500)
        return TC_ACT_SHOT;
//             ^^^^^^^^^^^ support.constant.verdict.bpf
    return skb->mark ? TC_ACT_OK : TC_ACT_UNSPEC;
//                     ^^^^^^^^^ support.constant.verdict.bpf
//                                 ^^^^^^^^^^^^^ support.constant.verdict.bpf
}

SEC("sk_msg") int msg_prog(struct sk_msg_md *msg) { return msg->size ? SK_PASS : SK_DROP; }
// <--- keyword.other.section.bpf
//   ^^^^^^ entity.name.section.bpf
//                ^^^^^^^^ entity.name.function.c
//                                                                     ^^^^^^^ support.constant.verdict.bpf
//                                                                               ^^^^^^^ support.constant.verdict.bpf

char LICENSE[] SEC("license") = "GPL";
//             ^^^ keyword.other.section.bpf
//                  ^^^^^^^ entity.name.section.bpf
//                              ^^^^^ string.quoted.double.c - string.quoted.double.section.bpf
