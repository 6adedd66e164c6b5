/**
 * The only shell text that ever runs on a node: one constant POSIX sh script, run as
 * `sh -c '<script>' ebpf-studio <action> <payload hash> <runtime version> <sudo 0|1>`. Its arguments are
 * our own words, a hex hash and a version number (checked here); user input never reaches it — that
 * travels inside JSON-RPC to the agent and leaves the agent only as argument arrays.
 *
 * The script is one line without `'`, `!`, `\` or a newline, so any login shell (bash, dash, zsh, fish,
 * csh) passes it to sh unchanged. Actions:
 * - probe: facts about the node between PROBE_BEGIN / PROBE_END lines (immune to output of shell rc files);
 * - unpack-runtime: unpack the uploaded Node runtime archive into its directory, completion marker last;
 * - start: refuse an incomplete payload, print AGENT_PREAMBLE, then exec the agent (through `sudo -n`
 *   when asked: it fails at once instead of prompting for a password).
 */
import { MINIMUM_NODE_MAJOR } from '../payload';

/**
 * How the agent is started, relative to the payload directory. The session daemon's bridge mode is
 * `['agent.js', '--bridge']`.
 */
export const AGENT_COMMAND: readonly string[] = ['agent.js'];

export const PROBE_BEGIN = 'EBPF_STUDIO_PROBE_BEGIN_7f3a';
export const PROBE_END = 'EBPF_STUDIO_PROBE_END_7f3a';
export const RUNTIME_READY = 'EBPF_STUDIO_RUNTIME_READY_7f3a';
/** The agent's stdout carries JSON-RPC frames only after this line. */
export const AGENT_PREAMBLE = 'EBPF_STUDIO_AGENT_FRAMES_FOLLOW_7f3a';

/** Exit codes of the start action. */
export const START_EXIT = { incompletePayload: 3, noNode: 4 } as const;

export type BootstrapAction = 'probe' | 'unpack-runtime' | 'start';

const agentWords = AGENT_COMMAND.map((word, i) => {
  if (!/^[A-Za-z0-9._-]+$/.test(word)) throw new Error(`AGENT_COMMAND word ${JSON.stringify(word)} is not a plain word`);
  return i === 0 ? `"$P/${word}"` : word;
}).join(' ');

const SCRIPT = [
  'PATH=$PATH:/usr/local/bin:/usr/sbin:/sbin; export PATH;',
  'a=$1; h=$2; rv=$3; su=$4;',
  'B=$HOME/.cache/ebpf-studio; P=$B/$h;',
  'case $(uname -m) in x86_64|amd64) ar=x64;; aarch64|arm64) ar=arm64;; *) ar=unsupported;; esac;',
  'R=$B/node-v$rv-linux-$ar;',
  'v=$(node -v 2>/dev/null); m=${v#v}; m=${m%%.*}; N=;',
  `case $m in [1-9][0-9]|[1-9][0-9][0-9]) if test "$m" -ge ${MINIMUM_NODE_MAJOR}; then N=$(command -v node); fi;; esac;`,
  'if test -z "$N" && test -f "$R/.complete"; then N=$R/bin/node; fi;',
  'if test "$a" = probe; then',
  `echo ${PROBE_BEGIN};`,
  'echo "kernel=$(uname -r)"; echo "machine=$(uname -m)"; echo "arch=$ar"; echo "uid=$(id -u)"; echo "user=$(id -un)"; echo "home=$HOME";',
  'echo "node_found=$v"; echo "node=$N";',
  'grep "^CapEff:" /proc/self/status | sed "s/^CapEff:[[:space:]]*/caps=/";',
  'if test -r /sys/kernel/btf/vmlinux; then echo btf=yes; else echo btf=no; fi;',
  'if ldconfig -p 2>/dev/null | grep -q "libbpf[.]so[.]1 "; then echo libbpf=yes; else echo libbpf=no; fi;',
  'echo "clang=$(command -v clang)";',
  'if command -v tar >/dev/null && command -v gzip >/dev/null; then echo tar=yes; else echo tar=no; fi;',
  'if test "$(cat "$P/.complete" 2>/dev/null)" = "$h"; then echo payload=complete; elif test -d "$P"; then echo payload=partial; else echo payload=missing; fi;',
  'if test -f "$R/.complete"; then echo runtime=complete; else echo runtime=missing; fi;',
  'if test "$su" = 1; then if command -v sudo >/dev/null; then if sudo -n true 2>/dev/null; then echo sudo=ok; else echo "sudo=$(sudo -n true 2>&1 | head -n 1)"; fi; else echo sudo=missing; fi; fi;',
  `echo ${PROBE_END}; exit 0;`,
  'fi;',
  'if test "$a" = unpack-runtime; then',
  'T=$R.unpack.$$; rm -rf "$T";',
  'if mkdir -p "$T" && tar -xzf "$R.tgz" -C "$T" package/bin/node package/LICENSE && "$T/package/bin/node" -v >/dev/null && rm -rf "$R" && mv "$T/package" "$R" && echo "$rv" > "$R/.complete";',
  `then rm -rf "$T" "$R.tgz"; echo ${RUNTIME_READY}; exit 0; fi;`,
  'rm -rf "$T"; exit 5;',
  'fi;',
  'if test "$a" = start; then',
  `if test "$(cat "$P/.complete" 2>/dev/null)" = "$h"; then :; else echo "ebpf-studio: the agent in $P is incomplete" >&2; exit ${START_EXIT.incompletePayload}; fi;`,
  `if test -z "$N"; then echo "ebpf-studio: no Node.js ${MINIMUM_NODE_MAJOR} or later on this node" >&2; exit ${START_EXIT.noNode}; fi;`,
  'S=; if test "$su" = 1; then S="sudo -n"; fi;',
  `echo ${AGENT_PREAMBLE}; exec $S "$N" ${agentWords};`,
  'fi;',
  'echo "ebpf-studio: unknown action $a" >&2; exit 2',
].join(' ');

if (/['!\\\n]/.test(SCRIPT)) throw new Error('the bootstrap script must not contain quotes, "!", backslashes or newlines');

/** The exec command for an action. Every argument is checked to be one of ours. */
export function bootstrapCommand(action: BootstrapAction, payloadHash: string, runtimeVersion: string, sudo: boolean): string {
  if (!/^[0-9a-f]{16,64}$/.test(payloadHash)) throw new Error(`payload hash ${JSON.stringify(payloadHash)} is not hex`);
  if (!/^\d+\.\d+\.\d+$/.test(runtimeVersion)) throw new Error(`runtime version ${JSON.stringify(runtimeVersion)} is not a version number`);
  return `sh -c '${SCRIPT}' ebpf-studio ${action} ${payloadHash} ${runtimeVersion} ${sudo ? 1 : 0}`;
}
