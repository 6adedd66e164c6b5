/**
 * The error catalogue: turns one line of a kernel verifier log, of libbpf's
 * output or of clang's diagnostics into a stable code with a plain explanation
 * and a fix.
 *
 * Patterns were derived from messages observed on kernel 6.18 (as root and as a
 * loader with only CAP_BPF+CAP_NET_ADMIN), libbpf 1.1 and clang 14; a few
 * alternatives cover the wording of older kernels (6.1 and earlier) and messages
 * this machine cannot produce (see server/test/catalogue.test.ts for every line).
 */

export type MessageSource = 'verifier' | 'libbpf' | 'clang';

export type RootCauseRule =
  | 'failing-insn' // the access/insn the error is about; for clang: the line of clang's diagnostic
  | 'call' // the helper/kfunc call instruction (helper unavailable, unknown func, GPL-only)
  | 'acquire-site' // the instruction at alloc_insn of the unreleased reference (the leaking exit is related info)
  | 'lock-site' // the bpf_spin_lock call still held at the exit (the branch and the exit are related info)
  | 'r0-setter' // the instruction that last set R0 before exit (return value out of range)
  | 'loop-header' // target of the back-edge around the hottest instructions (infinite loop / too complex)
  | 'stack-object' // the largest stack object in the function named by clang (stack limit)
  | 'section' // the SEC(...) line of the program (libbpf: unknown section)
  | 'map-definition' // the line that names the map the message is about (libbpf: map creation failed)
  | 'program'; // the program's function line (libbpf failures with no better place)

export interface CatalogueEntry {
  code: string;
  title: string;
  explanation: string;
  fix: string;
  /** The tool that emits the entry's messages (a few lines of one tool appear inside another's output). */
  source: MessageSource;
  rootCause: RootCauseRule;
  /** Matched against ONE message line. */
  patterns: RegExp[];
  /** Repo-relative page, docs/errors/<code>.md. */
  doc: string;
  /** The entry's messages are reproducible here only for a loader with just CAP_BPF+CAP_NET_ADMIN (no CAP_PERFMON). */
  needsReducedCaps?: boolean;
}

function docFor(code: string): string {
  return `docs/errors/${code}.md`;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    code: 'BPF-NULL-DEREF',
    title: 'Pointer used without a NULL check',
    explanation:
      'A map lookup, socket lookup or similar helper can return NULL, and so can some context fields (skops->sk, skb->sk), and the program used the pointer (dereferenced it, did arithmetic on it or passed it to a helper) before testing it.',
    fix: 'Test the pointer right where it is obtained and leave the path when it is NULL, e.g. `struct backend *be = bpf_map_lookup_elem(&backends, &id); if (!be) return 1;` or `struct bpf_sock *sk = skops->sk; if (!sk) return 1;`, and only then use it.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [
      /^R\d+ invalid mem access '\w*or_null\w*'/,
      /^R\d+ type=\w*or_null\w* expected=/,
      /^R\d+ pointer arithmetic on \w*or_null\w* prohibited/,
      /^Possibly NULL pointer passed to (?:helper|trusted) (?:arg|R)\d+/,
    ],
    doc: docFor('BPF-NULL-DEREF'),
  },
  {
    code: 'BPF-SCALAR-DEREF',
    title: 'A plain number used as a pointer',
    explanation:
      'The program dereferenced a value the verifier only knows as a number (a "scalar"), for example an address stored in a map or computed by casting an integer; BPF programs may only dereference pointers the verifier itself handed out.',
    fix: 'Do not keep pointers in maps or build them from integers: look the object up again (e.g. `bpf_map_lookup_elem` with its key) or copy the data with a helper such as `bpf_probe_read_kernel` where the program type allows it.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^R\d+ invalid mem access '(?:scalar|inv)'/],
    doc: docFor('BPF-SCALAR-DEREF'),
  },
  {
    code: 'BPF-PKT-OOB',
    title: 'Packet read without a data_end check',
    explanation:
      'The program read or wrote packet bytes that it had not first proven to lie before data_end, so on a short packet the access would run past the end of the packet.',
    fix: 'Before touching a header, compare its end with data_end and bail out when it does not fit, e.g. `struct iphdr *ip = (void *)(eth + 1); if ((void *)(ip + 1) > data_end) return XDP_PASS;`, and re-check after any variable offset such as `ip->ihl * 4`; bound a variable offset before adding it (`if (off > 1500) return ...;`), or the check proves nothing (the message then shows `r=0`).',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^invalid access to packet\b/, /^R\d+ offset is outside of the packet/],
    doc: docFor('BPF-PKT-OOB'),
  },
  {
    code: 'BPF-MAP-VALUE-OOB',
    title: 'Access outside a map value',
    explanation:
      'An offset or array index into a map value (or another fixed-size buffer such as a ring-buffer record) can reach past its end or before its start, because the index was not bounded on the path that uses it.',
    fix: 'Copy the index into a local variable once, check it against the array length with `<` (not `<=`) on the same path as the access, e.g. `__u32 i = *idx; if (i >= MAX) return XDP_PASS; v->slot[i]++;`, and use an unsigned type.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [
      /^invalid access to map value\b/,
      /^invalid access to memory, mem_size=/,
      /^R\d+ (?:min|max) value is outside of the allowed memory range/,
      /^R\d+ unbounded memory access, make sure to bounds check/,
      /^R\d+ min value is negative, either use unsigned index/,
      /^R\d+ pointer arithmetic of map value goes out of range/,
    ],
    doc: docFor('BPF-MAP-VALUE-OOB'),
  },
  {
    code: 'BPF-STACK-OOB',
    title: 'Stack access out of bounds',
    explanation:
      'A write or read on the stack uses an offset that is unbounded or can fall outside the 512-byte stack frame or the local array, typically an array on the stack indexed by a value from the packet, the context or a map.',
    fix: 'Bound the index to the array size on the same path as the access (`if (i >= ARRAY_LEN) return ...;` or mask with `LEN - 1` when LEN is a power of two), or keep the array in a per-CPU array map instead of on the stack.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [
      /^invalid (?:unbounded )?variable-offset\b[\w ]* stack R\d+/,
      /^invalid write to stack R\d+ off=/,
      /^invalid indirect access to stack R\d+/,
      /^invalid stack off=/,
      /^R\d+ stack pointer arithmetic goes out of range/,
    ],
    doc: docFor('BPF-STACK-OOB'),
  },
  {
    code: 'BPF-UNINIT',
    title: 'Uninitialised register or stack memory read',
    explanation:
      'The program reads a register that was never written (for example R0 at exit of a program declared void) or stack bytes that were never written (for example the padding of a struct key passed to a helper); a loader without CAP_PERFMON is refused the latter, root is not.',
    fix: 'Zero every stack object a helper reads before filling its fields (`struct svc_key key = {};` or `__builtin_memset(&key, 0, sizeof(key))`), and declare programs as returning int with an explicit `return`.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^R\d+ !read_ok/, /^invalid (?:indirect )?read from stack\b/],
    doc: docFor('BPF-UNINIT'),
    needsReducedCaps: true,
  },
  {
    code: 'BPF-CTX-ACCESS',
    title: 'Context field not accessible',
    explanation:
      'The program read or wrote a field of its context structure (xdp_md, __sk_buff, bpf_sock_addr, bpf_sock_ops ...) that this program type or attach point may not access, or may only read, or accessed it with the wrong size or through a modified pointer.',
    fix: 'Use only the context fields documented for the program type (e.g. `user_ip4`/`user_port` in cgroup/connect4, not `user_ip6`), read them with their declared width, and change sockets through the helpers meant for it rather than by writing read-only fields.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^invalid bpf_context access\b/, /^dereference of modified ctx ptr R\d+/],
    doc: docFor('BPF-CTX-ACCESS'),
  },
  {
    code: 'BPF-HELPER-UNAVAILABLE',
    title: 'Helper not available here',
    explanation:
      'The program calls a helper or kernel function that this program type (or a loader without CAP_PERFMON, e.g. for bpf_trace_printk) is not allowed to use, or that this kernel does not have.',
    fix: 'Use the helper meant for this program type (e.g. rewrite `ctx->user_ip4` in cgroup/connect4 instead of calling `bpf_redirect`, use `skops` fields instead of `bpf_skb_load_bytes` in sockops), move the work to a program type that has it, or drop debug helpers for reduced-capability loads.',
    source: 'verifier',
    rootCause: 'call',
    patterns: [
      /^program of this type cannot use helper \w+#\d+/,
      /^unknown func \w+#-?\d+/,
      /^invalid func \w+#-?\d+/,
      /^calling kernel function \w+ is not allowed/,
      /^helper call is not allowed in probe/,
    ],
    doc: docFor('BPF-HELPER-UNAVAILABLE'),
  },
  {
    code: 'BPF-GPL-ONLY',
    title: 'GPL-only helper in a non-GPL program',
    explanation:
      'The program calls a helper or kernel function the kernel only offers to GPL-compatible programs, and the license string in SEC("license") is not one the kernel accepts as GPL-compatible.',
    fix: 'Declare a GPL-compatible license, e.g. `char LICENSE[] SEC("license") = "Dual MIT/GPL";` (or "GPL"), or stop calling the GPL-only helper (bpf_printk/bpf_trace_printk, bpf_probe_read_*, kfuncs).',
    source: 'verifier',
    rootCause: 'call',
    patterns: [
      /^cannot call (?:GPL-restricted function|kernel function) from non-GPL compatible program/,
      /^cannot call GPL only function from proprietary program/,
    ],
    doc: docFor('BPF-GPL-ONLY'),
  },
  {
    code: 'BPF-REF-LEAK',
    title: 'Acquired reference not released',
    explanation:
      'The program acquired a reference (a socket from bpf_sk_lookup_tcp/udp, a ring-buffer record from bpf_ringbuf_reserve, a kfunc object) and some path reaches the exit without releasing, submitting or discarding it.',
    fix: 'On every path after a successful acquire, call the matching release: `bpf_sk_release(sk)` for socket lookups, `bpf_ringbuf_submit(e, 0)` or `bpf_ringbuf_discard(e, 0)` for reservations, and for `bpf_ringbuf_reserve_dynptr()` `bpf_ringbuf_submit_dynptr()` or `bpf_ringbuf_discard_dynptr()` even when the reservation failed; move early returns before the acquire where you can.',
    source: 'verifier',
    rootCause: 'acquire-site',
    patterns: [/^Unreleased reference id=\d+ alloc_insn=\d+/, /would lead to reference leak/],
    doc: docFor('BPF-REF-LEAK'),
  },
  {
    code: 'BPF-SPIN-LOCK',
    title: 'bpf_spin_lock used wrongly',
    explanation:
      'Between bpf_spin_lock() and bpf_spin_unlock() a program may only load and store fields of the locked map value: no helper or function call (a second bpf_spin_lock included, so one lock at a time), the struct bpf_spin_lock field itself is touched only by the two helpers, and an unlock needs its lock taken on the same path.',
    fix: 'Call helpers such as bpf_ktime_get_ns() or lookups before bpf_spin_lock() and keep the locked region to plain reads and writes of the value, e.g. `__u64 now = bpf_ktime_get_ns(); bpf_spin_lock(&v->lock); v->stamp = now; bpf_spin_unlock(&v->lock);`; take one lock at a time and never assign the lock field.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^function calls are not allowed while holding a lock/, /^bpf_spin_unlock without taking a lock/, /^bpf_spin_lock cannot be accessed directly by load\/store/, /^Locking two bpf_spin_locks are not allowed/, /^bpf_spin_unlock of different lock/],
    doc: docFor('BPF-SPIN-LOCK'),
  },
  {
    code: 'BPF-SPIN-LOCK-HELD',
    title: 'Exit while holding a bpf_spin_lock',
    explanation:
      'A path from bpf_spin_lock() reaches the end of the program (a return, or an instruction that can end it) before bpf_spin_unlock(): the lock would stay taken and every later user of the map value would wait forever.',
    fix: 'Release the lock on every path before returning: decide under the lock, unlock, then return, e.g. `bool drop = v->bytes > LIMIT; bpf_spin_unlock(&v->lock); return drop ? XDP_DROP : XDP_PASS;`.',
    source: 'verifier',
    rootCause: 'lock-site',
    patterns: [/cannot be used inside bpf_spin_lock-ed region/],
    doc: docFor('BPF-SPIN-LOCK-HELD'),
  },
  {
    code: 'BPF-MAP-HELPER',
    title: 'Helper not allowed on this map type',
    explanation:
      'The generic element helpers (bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem) work on hash, array and similar maps; special map types such as ring buffers, perf event arrays, program arrays, sockmaps and device maps are used through their own helpers, and some of them only from certain program types.',
    fix: 'Use the helper made for the map type: bpf_ringbuf_output() or bpf_ringbuf_reserve() for a ring buffer, bpf_perf_event_output() for a perf event array, bpf_tail_call() for a program array, bpf_sock_hash_update() and bpf_msg_redirect_hash() for a sockhash, bpf_redirect_map() for a device or CPU map.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^cannot pass map_type \d+ into func \w+#\d+/],
    doc: docFor('BPF-MAP-HELPER'),
  },
  {
    code: 'BPF-READONLY-MAP',
    title: 'Write into a read-only map',
    explanation:
      'The program writes into a map its programs may only read: the .rodata of `const volatile` globals, which libbpf freezes after user space has set them, or a map created with BPF_F_RDONLY_PROG.',
    fix: 'Keep values the program changes in a writable global (`__u32 hits;` or `volatile __u32 hits = 1;`, without const) or in a map; `const volatile` is for settings user space fixes before loading (`ebpf-studio verify --set NAME=VALUE`).',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^write into map forbidden/],
    doc: docFor('BPF-READONLY-MAP'),
  },
  {
    code: 'BPF-CALL-DEPTH',
    title: 'Function calls nested too deep',
    explanation:
      'BPF-to-BPF calls of functions the compiler did not inline may nest at most 8 frames deep, the program itself included; this call would open a ninth.',
    fix: 'Let small helpers be inlined (`static __always_inline`) and keep `__noinline` for the few large or shared functions, or flatten the chain so no path calls more than 7 functions deep.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^the call stack of \d+ frames is too deep/],
    doc: docFor('BPF-CALL-DEPTH'),
  },
  {
    code: 'BPF-RELEASE-UNOWNED',
    title: 'Releasing a reference the program does not hold',
    explanation:
      'Release helpers (bpf_sk_release and the release kfuncs) take only a pointer the program acquired itself (bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp, an acquiring kfunc) and still holds. Context pointers such as skb->sk or skops->sk are lent by the kernel for the run and must not be released.',
    fix: 'Drop the release of a borrowed pointer (skb->sk needs none); release only what a lookup returned, once on each path.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/must be referenced when passed to release function/, /^reference has not been acquired before/, /^release kernel function \w+ expects refcounted/],
    doc: docFor('BPF-RELEASE-UNOWNED'),
  },
  {
    code: 'BPF-RET-RANGE',
    title: 'Return value out of range for this program type',
    explanation:
      'The value in R0 when the program exits can be outside what this program type allows (cgroup/connect4 and other cgroup hooks must return exactly 0 or 1), for example a byte read from a map or a helper result returned as is.',
    fix: 'Return only the allowed constants, mapping other values explicitly, e.g. `return p->action == ACTION_DENY ? 0 : 1;` or `if (bpf_bind(...) < 0) return 0; return 1;`.',
    source: 'verifier',
    rootCause: 'r0-setter',
    patterns: [/^At (?:program|subprogram|callback|async callback) (?:exit|return) the register R0\b/],
    doc: docFor('BPF-RET-RANGE'),
  },
  {
    code: 'BPF-TOO-COMPLEX',
    title: 'Loop the verifier cannot finish',
    explanation:
      'The verifier walks every path of the program; a loop that never makes progress, whose bound comes from run-time data, or that branches on data in every iteration makes it give up (infinite loop, too many pending branches, or more than one million instructions processed).',
    fix: 'Give the loop a small constant bound and advance its index on every path, e.g. `for (__u32 i = 0; i < MAX_SLOTS && i < n; i++)`, keep branches out of long loops, or use `bpf_loop()` for long iterations.',
    source: 'verifier',
    rootCause: 'loop-header',
    patterns: [
      /^infinite loop detected at insn \d+/,
      /^BPF program is too large\. Processed \d+ insn/,
      /^The sequence of \d+ jumps is too complex/,
      /^back-edge from insn \d+ to \d+/,
      /^BPF program is too complex/,
    ],
    doc: docFor('BPF-TOO-COMPLEX'),
  },
  {
    code: 'BPF-HELPER-ARG',
    title: 'Wrong argument passed to a helper',
    explanation:
      'An argument passed to a helper or kernel function does not have the type or range the function requires, for example a number where a pointer to a key on the stack is expected, a length the verifier cannot bound or that may be zero, a key for a map that has none (a ring buffer is written with bpf_ringbuf_output/reserve, never looked up), or a struct bpf_dynptr that no constructor (bpf_ringbuf_reserve_dynptr, bpf_dynptr_from_mem) has initialised.',
    fix: 'Pass what the helper signature asks for: a pointer to an initialised stack variable for keys and values (`&key`, not `key`), the map itself as `&map`, and a length bounded on both sides: clamp it, then refuse 0 (`if (len > sizeof(buf)) len = sizeof(buf); if (len == 0) return ...;`), since clang merges `len == 0 || len > N` into one compare on a copy and the verifier loses the bound.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [
      /^R\d+ type=(?!\w*or_null)\S+ expected=/,
      /^arg#\d+ /,
      /^R\d+ unbounded memory access, use 'var &= const'/,
      /^R\d+ min value is negative, either use unsigned or 'var &= const'/,
      /^(?:R\d+ )?invalid zero-sized read/,
      /^Expected an initialized dynptr as arg #\d+/,
      /^Dynptr has to be an uninitialized dynptr/,
    ],
    doc: docFor('BPF-HELPER-ARG'),
  },
  {
    code: 'BPF-PTR-ARITH',
    title: 'Pointer arithmetic the verifier cannot follow',
    explanation:
      'The program adds to a pointer a value that may be negative or unbounded, or does arithmetic the verifier never allows on that kind of pointer, so it cannot tell where the resulting pointer points.',
    fix: 'Bound the offset before adding it, with an unsigned type and an explicit range check, e.g. `__u32 off = *len; if (off > MAX_ENCAP) return XDP_PASS; struct iphdr *inner = data + off;`, then check the result against data_end.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [
      /^math between \w+ pointer and (?:register with unbounded min value|-?\d+) is not allowed/,
      /^value -?\d+ makes \w+ pointer be out of bounds/,
      /^R\d+ pointer arithmetic on (?!\w*or_null)\w+ prohibited/,
      /^R\d+ (?:32-bit pointer arithmetic|pointer arithmetic with \S+ operator|bitwise operator \S+ on pointer) prohibited/,
      /^R\d+ pointer (?!-=)\S+ pointer prohibited/,
      /^R\d+ tried to subtract pointer from scalar/,
      /^\w+ pointer offset -?\d+ is not allowed/,
    ],
    doc: docFor('BPF-PTR-ARITH'),
  },
  {
    code: 'BPF-UNPRIV-PTR',
    title: 'Pointer operation refused without CAP_PERFMON',
    explanation:
      'A loader with CAP_BPF but without CAP_PERFMON gets Spectre-v1 hardening: the verifier refuses pointer operations it cannot mask, such as a variable offset into the stack or packet, pointer subtraction, an index that differs in kind between paths, or storing a pointer where it could leak.',
    fix: 'Either load with CAP_PERFMON as well, or avoid variable pointer arithmetic: read packet data at constant offsets or with bpf_skb_load_bytes, get lengths from skb->len or bpf_xdp_get_buff_len(ctx) instead of data_end - data, and pass indexes to helpers as map keys.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [
      /^R\d+ tried to (?:add|sub) from different (?:maps|pointers)/,
      /^R\d+ has pointer with unsupported alu operation/,
      /^R\d+ variable (?:offset )?stack access prohibited for !root/,
      /^R\d+ pointer -= pointer prohibited/,
      /^R\d+ leaks addr (?:into|as)\b/,
    ],
    doc: docFor('BPF-UNPRIV-PTR'),
    needsReducedCaps: true,
  },
  {
    code: 'BPF-MISALIGNED',
    title: 'Misaligned memory access',
    explanation:
      'An access of N bytes is not at an address that is a multiple of N; the verifier always enforces this for the stack (and for other memory when strict alignment is requested), typically after casting a byte buffer to a wider type at an odd offset.',
    fix: 'Read wide fields from a properly typed struct, or copy the bytes into an aligned variable, e.g. `__u32 saddr; __builtin_memcpy(&saddr, hdr + 26, sizeof(saddr));`, instead of `*(__u32 *)(hdr + 26)`.',
    source: 'verifier',
    rootCause: 'failing-insn',
    patterns: [/^misaligned (?:\w+ )?access off\b/],
    doc: docFor('BPF-MISALIGNED'),
  },
  {
    code: 'BPF-STACK-LIMIT',
    title: 'BPF stack limit of 512 bytes exceeded',
    explanation:
      'A BPF program has 512 bytes of stack for the whole call chain; a large local array, or several functions whose frames are live at once, need more.',
    fix: 'Move large buffers into a per-CPU array map used as scratch space (`struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);`), or shrink them so the deepest call chain stays under 512 bytes.',
    source: 'clang',
    rootCause: 'stack-object',
    patterns: [/error: .*Looks like the BPF stack limit(?: of \d+ bytes)? is exceeded/, /^combined stack size of \d+ calls is \d+\. Too large/],
    doc: docFor('BPF-STACK-LIMIT'),
  },
  {
    code: 'LIBBPF-CORE-RELO',
    title: 'CO-RE relocation failed',
    explanation:
      "libbpf could not match a field or type the program reads via CO-RE (preserve_access_index / BPF_CORE_READ) with this kernel's BTF, so it replaced the instruction with an invalid one and the load fails there.",
    fix: "Use the field name the running kernel has (check with `bpftool btf dump file /sys/kernel/btf/vmlinux | grep -A40 'struct tcp_sock {'`), and guard fields that only exist on some kernels with `bpf_core_field_exists()`.",
    source: 'libbpf',
    rootCause: 'failing-insn',
    patterns: [
      /failed to resolve CO-RE relocation/,
      /^\d+: <invalid CO-RE relocation>/,
      /relo #\d+: (?:target candidate search failed|failed to relocate|failed to patch insn|failed to record relocation)/,
      /failed to perform CO-RE relocations/,
    ],
    doc: docFor('LIBBPF-CORE-RELO'),
  },
  {
    code: 'LIBBPF-NO-BTF',
    title: 'BTF type information missing',
    explanation:
      "libbpf needs BTF it cannot find: the object was built without BTF (no -g), the kernel's BTF could not be read, or it has no function or type with the name the program refers to, such as the target in SEC(\"fentry/...\").",
    fix: 'Compile with `clang -g`, and make the name after fentry/, fexit/ or tp_btf/ exactly match a kernel function listed by `bpftool btf dump file /sys/kernel/btf/vmlinux | grep -w NAME`.',
    source: 'libbpf',
    rootCause: 'section',
    patterns: [
      /BTF is required, but is missing or corrupted/,
      /failed to find kernel BTF type ID of '/,
      /failed to find valid kernel BTF/,
      /vmlinux BTF is not found/,
      /Error loading vmlinux BTF/,
      /failed to iterate BTF objects/,
      /failed to find BPF program \(FD -?\d+\) BTF ID for '/,
    ],
    doc: docFor('LIBBPF-NO-BTF'),
  },
  {
    code: 'LIBBPF-UNKNOWN-SECTION',
    title: 'Unknown program section name',
    explanation:
      'libbpf derives the program type and attach point from the SEC("...") name, and this name is not one it knows (often a typo such as "cgroup/connect_v4" for "cgroup/connect4").',
    fix: 'Use a section name libbpf 1.1 knows, e.g. SEC("xdp"), SEC("tc"), SEC("cgroup/connect4"), SEC("sockops"), SEC("sk_msg").',
    source: 'libbpf',
    rootCause: 'section',
    patterns: [
      /missing BPF prog type, check ELF section name/,
      /failed to guess program type from ELF section/,
      /failed to guess attach type based on ELF section name/,
      /unrecognized ELF section name/,
    ],
    doc: docFor('LIBBPF-UNKNOWN-SECTION'),
  },
  {
    code: 'LIBBPF-LOAD-EPERM',
    title: 'The kernel refused the program before verifying it',
    explanation:
      'The kernel turned the program down before its verifier ran: its type takes a capability the loader does not hold (CAP_PERFMON for tracing programs, CAP_NET_ADMIN for networking ones), or, when the loader holds them all, the kernel does not allow the program here (kernel lockdown, a security module, or no support for this attach point).',
    fix: 'Give the loader the capability the message names (or verify without `--caps` / `ebpfStudio.caps`); when it already holds them, check `cat /sys/kernel/security/lockdown` and the LSMs in /sys/kernel/security/lsm, or use an attach point this kernel allows (a tracepoint or raw tracepoint instead of fentry/fexit).',
    source: 'libbpf',
    rootCause: 'section',
    patterns: [/^EPERM (?:— \S+ programs need|although this loader holds)/],
    doc: docFor('LIBBPF-LOAD-EPERM'),
  },
  {
    code: 'LIBBPF-EXT-TARGET',
    title: 'An freplace program needs the program it replaces',
    explanation:
      'An SEC("freplace/NAME") program (type ext) replaces the function NAME of another BPF program that is already loaded, and the kernel verifies it against that program, so it cannot be loaded, or verified, on its own.',
    fix: 'Verify the program that holds NAME (the target) as a program of its own; to load the replacement, give libbpf the loaded target first with `bpf_program__set_attach_target(prog, target_fd, "NAME")`.',
    source: 'libbpf',
    rootCause: 'section',
    patterns: [/attach program FD is not set/],
    doc: docFor('LIBBPF-EXT-TARGET'),
  },
  {
    code: 'LIBBPF-LEGACY-MAPS',
    title: 'Legacy map definition in SEC("maps")',
    explanation:
      'The map is declared the old iproute2/libbpf 0.x way, a `struct bpf_map_def` placed in SEC("maps"). libbpf 1.0 dropped that form, so the object does not open and none of its programs loads.',
    fix: 'Declare it as a BTF-defined map in SEC(".maps") and keep using it as before, e.g. `struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } counters SEC(".maps");`.',
    source: 'libbpf',
    rootCause: 'section',
    patterns: [/legacy map definitions in 'maps' section are not supported/, /legacy map definitions in SEC\("maps"\) are not supported/],
    doc: docFor('LIBBPF-LEGACY-MAPS'),
  },
  {
    code: 'LIBBPF-MAP-CREATE',
    title: 'The kernel refused to create a map',
    explanation:
      'libbpf asked the kernel to create one of the object\'s maps and the kernel said no, so no program of the object loads. EINVAL usually means the definition does not fit its map type: max_entries missing or 0, key or value sizes the type does not take (an ARRAY key is 4 bytes; a ring buffer takes no key or value), or flags the type does not support; EPERM or ENOMEM mean the loader may not or cannot allocate it.',
    fix: 'Give the map what its type requires, e.g. `struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, __u32); __type(value, __u64); } flows SEC(".maps");`, and shrink max_entries if the kernel is out of memory.',
    source: 'libbpf',
    rootCause: 'map-definition',
    patterns: [/\bmap '[^']+': failed to create/],
    doc: docFor('LIBBPF-MAP-CREATE'),
  },
  {
    code: 'LIBBPF-EXTERN',
    title: 'Call to an unknown external function',
    explanation:
      'The object calls a function that is neither a BPF helper from bpf_helper_defs.h nor a kfunc this kernel provides with that signature, usually a misspelt helper name that clang accepted as an implicit declaration.',
    fix: 'Fix the name to a helper declared in <bpf/bpf_helpers.h> (clang 14 only warns "implicit declaration of function"), or declare the kfunc with `extern ... __ksym;` exactly as the kernel defines it.',
    source: 'libbpf',
    rootCause: 'call',
    patterns: [
      /failed to find BTF for extern '/,
      /extern \((?:func|var) ksym\) '[^']+': (?:not found in kernel|func_proto \[\d+\] incompatible with (?:kernel|vmlinux))/,
    ],
    doc: docFor('LIBBPF-EXTERN'),
  },
  {
    code: 'CLANG-MISSING-HEADER',
    title: 'Header file not found',
    explanation:
      'clang could not find an included header: it is neither next to the source nor in an include directory.',
    fix: 'Put the header next to the source or add its directory (-I DIR, ebpfStudio.includePaths). vmlinux.h is provided from this machine\'s kernel BTF when the source includes it (ebpfStudio.vmlinux "auto", --vmlinux); without kernel BTF here, generate it on a node with `bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h`, or include the UAPI headers (<linux/bpf.h>, <linux/ip.h>, ...).',
    source: 'clang',
    rootCause: 'failing-insn',
    patterns: [/fatal error: '[^']+' file not found/],
    doc: docFor('CLANG-MISSING-HEADER'),
  },
  {
    code: 'CLANG-BUILTIN',
    title: 'Library call BPF cannot make',
    explanation:
      'BPF programs cannot call memcpy, memset or other library functions; clang only inlines __builtin_memcpy/__builtin_memset when the size is a compile-time constant.',
    fix: 'Copy a constant number of bytes (`__builtin_memcpy(dst, src, sizeof(dst->name))`), or a bounded loop, or a helper such as bpf_probe_read_kernel where the program type has it.',
    source: 'clang',
    rootCause: 'failing-insn',
    patterns: [/error: A call to built-in function '\w+' is not supported/],
    doc: docFor('CLANG-BUILTIN'),
  },
  {
    code: 'CLANG-ERROR',
    title: 'Compile error',
    explanation: 'clang could not compile the program; the message names the line and what it did not accept.',
    fix: "Fix the code at the line clang reports (clang's own suggestion, after 'did you mean', is often right).",
    source: 'clang',
    rootCause: 'failing-insn',
    patterns: [/(?:^|: )(?:fatal )?error: /],
    doc: docFor('CLANG-ERROR'),
  },
];

/** Entries that match broadly and only apply when nothing more specific does. */
const GENERIC_CODES: ReadonlySet<string> = new Set(['CLANG-ERROR']);

/** Fallback for a verifier rejection no entry recognises. */
export const UNKNOWN_VERIFIER: CatalogueEntry = {
  code: 'BPF-VERIFIER',
  title: 'Rejected by the verifier',
  explanation: 'The kernel verifier refused the program for a reason this catalogue does not know yet; the message is the last line before "processed N insns".',
  fix: 'Read the verifier message at the reported line; the instructions and register states before it show which value the verifier could not prove safe.',
  source: 'verifier',
  rootCause: 'failing-insn',
  patterns: [],
  doc: docFor('BPF-VERIFIER'),
};

/** Fallback for a libbpf failure no entry recognises. */
export const UNKNOWN_LIBBPF: CatalogueEntry = {
  code: 'LIBBPF-ERROR',
  title: 'libbpf could not open or load the object',
  explanation: 'libbpf failed before or while loading the program for a reason this catalogue does not know yet; its first warning line names what it tried.',
  fix: "Read libbpf's warning lines in order; the first one is usually the cause and the later ones ('failed to load object') are consequences.",
  source: 'libbpf',
  rootCause: 'program',
  patterns: [],
  doc: docFor('LIBBPF-ERROR'),
};

const CLANG_ERROR = CATALOGUE.find((e) => e.code === 'CLANG-ERROR') as CatalogueEntry;

/** The entry to report when a tool failed and no line was classified. */
export function fallbackFor(source: MessageSource): CatalogueEntry {
  if (source === 'verifier') return UNKNOWN_VERIFIER;
  if (source === 'libbpf') return UNKNOWN_LIBBPF;
  return CLANG_ERROR;
}

/** A verifier log's source annotations ("; <C source> @ file.c:N") quote user code, never a message. */
function isSourceAnnotation(line: string): boolean {
  return /^\s*;/.test(line);
}

function matches(entry: CatalogueEntry, line: string): boolean {
  return entry.patterns.some((p) => p.test(line));
}

const SPECIFIC = CATALOGUE.filter((e) => !GENERIC_CODES.has(e.code));
const GENERIC = CATALOGUE.filter((e) => GENERIC_CODES.has(e.code));

function classifySpecific(source: MessageSource, line: string): CatalogueEntry | undefined {
  return SPECIFIC.find((e) => e.source === source && matches(e, line)) ?? SPECIFIC.find((e) => e.source !== source && matches(e, line));
}

function classifyGeneric(source: MessageSource, line: string): CatalogueEntry | undefined {
  return GENERIC.find((e) => e.source === source && matches(e, line));
}

/**
 * Classify one message line. Entries of the given source are tried first, then the
 * specific entries of the other tools (libbpf writes its CO-RE message into the
 * verifier log; the stack limit is reported by clang or by the verifier), then the
 * source's generic entry.
 */
export function classifyMessage(source: MessageSource, line: string): CatalogueEntry | undefined {
  const text = line.trim();
  if (text === '' || isSourceAnnotation(text)) return undefined;
  return classifySpecific(source, text) ?? classifyGeneric(source, text);
}

/**
 * Classify a tool's output: the first line a specific entry recognises wins; only
 * when no line does, the first line a generic entry recognises.
 */
export function classifyLines(
  source: MessageSource,
  lines: readonly string[],
): { entry: CatalogueEntry; line: string } | undefined {
  let generic: { entry: CatalogueEntry; line: string } | undefined;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || isSourceAnnotation(line)) continue;
    const entry = classifySpecific(source, line);
    if (entry) return { entry, line };
    if (!generic) {
      const g = classifyGeneric(source, line);
      if (g) generic = { entry: g, line };
    }
  }
  return generic;
}

/** The catalogue entry (or fallback) with this code. */
export function entryByCode(code: string): CatalogueEntry | undefined {
  return [...CATALOGUE, UNKNOWN_VERIFIER, UNKNOWN_LIBBPF].find((e) => e.code === code);
}
