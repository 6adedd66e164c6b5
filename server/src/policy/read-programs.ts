import { isMap } from 'yaml';
import { formatSocketAddress, ipAddressBytes, macBytes } from './address';
import { SKB_MAX_RULES } from './cgroup-skb-layout';
import type { Position, ProgramDef, RuleDef, SettingValue } from './policy-model';
import { findTemplate, type TemplateCatalog, type TemplateParameter } from './template-catalog';
import { readNamedEntry } from './named-entry';
import { entryOf, scalar, type YamlChecker, type YamlEntry } from './yaml-checker';

const PROGRAM_KEYS = ['name', 'template', 'attach', 'load', 'settings', 'rules', 'nextHop'];
const RULE_KEYS = ['action', 'cidr', 'port', 'protocol', 'direction'];
/** template.json `policy` values whose programs take `rules:` and `nextHop:`. */
export const RULES_POLICY = 'cgroup-rules';
export const GATEWAY_POLICY = 'maglev-gateway';
/** What resolveAttachTarget accepts as an interface name. */
const IFNAME = /^[A-Za-z0-9_.@-]{1,15}$/;
/** What resolveAttachTarget accepts as a cgroup path: no '..', no spaces or shell characters. */
const CGROUP_PATH = /^[A-Za-z0-9_./@:+-]+$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function settingProblem(parameter: TemplateParameter, value: unknown): string | undefined {
  if (parameter.format === 'ipv4') {
    const m = typeof value === 'string' ? IPV4.exec(value) : null;
    return m && m.slice(1).every((o) => Number(o) <= 255) ? undefined : 'must be an IPv4 address such as 127.0.0.1';
  }
  if (parameter.format === 'ipv6') {
    return typeof value === 'string' && ipAddressBytes(value)?.family === 6 ? undefined : 'must be an IPv6 address such as fd00::1';
  }
  if (typeof value === 'boolean') return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) return 'must be a whole number (or true/false)';
  const bits = { __u8: 8, __u16: 16, __u32: 32 }[parameter.type];
  return bits !== undefined && value >= 2 ** bits ? `does not fit in ${parameter.type}` : undefined;
}

function readSettings(check: YamlChecker, node: unknown, fallback: unknown, where: string, parameters: readonly TemplateParameter[]): Record<string, SettingValue> {
  const settings: Record<string, SettingValue> = {};
  for (const e of check.pairs(node, fallback, `${where}.settings`)) {
    const parameter = parameters.find((p) => p.name === e.key);
    if (!parameter) {
      check.error(e.keyNode, node, `${where}.settings: the template has no parameter "${e.key}" (parameters: ${parameters.map((p) => p.name).join(', ') || 'none'})`);
      continue;
    }
    const value = scalar(e.value);
    const problem = settingProblem(parameter, value);
    if (problem) check.error(e.value, e.keyNode, `${where}.settings.${e.key} ${problem}`);
    else settings[e.key] = value as SettingValue;
  }
  return settings;
}

/** A CIDR as canonical `address/length` with the host bits zero, or a message saying what is wrong. */
function parseCidr(text: string): string | { error: string } {
  const [host, bits, extra] = text.split('/');
  const ip = host === undefined ? undefined : ipAddressBytes(host);
  const max = ip ? ip.bytes.length * 8 : 0;
  if (!ip || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits))) return { error: `"${text}" is not a CIDR (write 10.0.0.0/8 or 2001:db8::/32)` };
  const length = bits === undefined ? max : Number(bits);
  if (length > max) return { error: `"${text}": an IPv${ip.family} prefix is at most /${max}` };
  for (let bit = length; bit < max; bit++) {
    if ((ip.bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return { error: `"${text}" has bits set beyond /${length} (the network is ${networkOf(ip.bytes, length, ip.family)}/${length})` };
  }
  return `${networkOf(ip.bytes, length, ip.family)}/${length}`;
}

function networkOf(bytes: Uint8Array, length: number, family: 4 | 6): string {
  const masked = bytes.map((b, i) => (i * 8 >= length ? 0 : i * 8 + 8 <= length ? b : b & (0xff << (8 - (length - i * 8))) & 0xff));
  if (family === 4) return [...masked].join('.');
  return formatSocketAddress(6, masked, 0).slice(1, -3);
}

function oneOf<T extends string>(check: YamlChecker, entry: YamlEntry | undefined, fallback: unknown, what: string, choices: readonly T[]): T | undefined {
  if (!entry) return undefined;
  const value = scalar(entry.value);
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  check.error(entry.value, fallback, `${what} must be ${choices.join(' or ')}`);
  return undefined;
}

/** `rules:` of a cgroup-rules program: `- { action: allow|deny, cidr, port?, protocol?: tcp|udp, direction?: ingress|egress }`. */
function readRules(check: YamlChecker, node: unknown, fallback: unknown, label: string): RuleDef[] {
  const rules: RuleDef[] = [];
  const seen = new Map<string, Position>();
  let entries = 0;
  check.items(node, fallback, `${label}.rules`).forEach((item, i) => {
    const where = `${label}.rules[${i}]`;
    const pairs = check.pairs(item, node, where);
    if (!isMap(item)) return;
    check.unknownKeys(pairs, RULE_KEYS, where, item);
    const before = check.problems.length;
    const get = (key: string): YamlEntry | undefined => entryOf(pairs, key);
    const action = oneOf(check, get('action'), item, `${where}.action`, ['allow', 'deny'] as const);
    if (!get('action')) check.error(item, node, `${where} has no action (allow or deny)`);
    const cidrEntry = get('cidr');
    let cidr: string | undefined;
    if (!cidrEntry) check.error(item, node, `${where} has no cidr (write cidr: 10.0.0.0/8, or 0.0.0.0/0 for every address)`);
    else {
      const text = scalar(cidrEntry.value);
      const parsed = typeof text === 'string' ? parseCidr(text) : { error: 'must be a CIDR such as 10.0.0.0/8' };
      if (typeof parsed === 'string') cidr = parsed;
      else check.error(cidrEntry.value, cidrEntry.keyNode, `${where}.cidr ${parsed.error}`);
    }
    const protocol = oneOf(check, get('protocol'), item, `${where}.protocol`, ['tcp', 'udp'] as const);
    const direction = oneOf(check, get('direction'), item, `${where}.direction`, ['ingress', 'egress'] as const);
    const portEntry = get('port');
    let port: number | undefined;
    if (portEntry) {
      const value = scalar(portEntry.value);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) check.error(portEntry.value, portEntry.keyNode, `${where}.port must be a port number 1-65535`);
      else if (!get('protocol')) check.error(portEntry.keyNode, item, `${where}.port needs a protocol: add "protocol: tcp" or "protocol: udp"`);
      else port = value;
    }
    if (check.problems.length > before || !action || !cidr) return;
    const at = check.at(item, node);
    for (const dir of direction ? [direction] : ['ingress', 'egress']) {
      const key = `${dir} ${protocol ?? 'any'} ${port ?? 0} ${cidr}`;
      const first = seen.get(key);
      if (first) return check.error(item, node, `${where} matches the same ${dir} traffic as the rule at line ${first.line}:${first.col} (${key})`);
      seen.set(key, at);
      entries += 1;
    }
    if (entries > SKB_MAX_RULES) return check.error(item, node, `${where}: at most ${SKB_MAX_RULES} rule entries (a rule without a direction takes two)`);
    rules.push({ action, cidr, ...(port !== undefined ? { port } : {}), ...(protocol ? { protocol } : {}), ...(direction ? { direction } : {}), at });
  });
  return rules;
}

function readProgram(check: YamlChecker, node: unknown, fallback: unknown, index: number, catalog: TemplateCatalog): ProgramDef | undefined {
  const where = `programs[${index}]`;
  const entry = readNamedEntry(check, node, fallback, where, PROGRAM_KEYS);
  if (!entry) return undefined;
  const { get, name, problemsBefore } = entry;
  const label = name === undefined ? where : `program ${name}`;

  const templateEntry = get('template');
  const templateName = templateEntry ? check.string(templateEntry.value, templateEntry.keyNode, `${label}.template`) : undefined;
  if (!templateEntry) check.error(node, fallback, `${label} has no template (templates: ${catalog.templates.map((t) => t.name).join(', ')})`);
  const template = templateName === undefined ? undefined : findTemplate(catalog, templateName);
  if (templateName !== undefined && !template) {
    check.error(templateEntry?.value, node, `${label}: unknown template "${templateName}" (templates: ${catalog.templates.map((t) => t.name).join(', ') || `none found in ${catalog.dir}`})`);
  }

  let load: string[] | undefined;
  const loadEntry = get('load');
  if (loadEntry && template) {
    load = [];
    for (const item of check.items(loadEntry.value, loadEntry.keyNode, `${label}.load`)) {
      const program = check.string(item, loadEntry.value, `${label}.load`);
      if (program === undefined) continue;
      if (!template.programs.some((p) => p.name === program)) {
        check.error(item, loadEntry.value, `${label}.load: unknown program "${program}" in template ${template.name} (programs: ${template.programs.map((p) => p.name).join(', ')})`);
      } else load.push(program);
    }
  }

  let cgroup: string | undefined;
  let iface: string | undefined;
  const attachEntry = get('attach');
  if (attachEntry) {
    const attach = check.pairs(attachEntry.value, attachEntry.keyNode, `${label}.attach`);
    check.unknownKeys(attach, ['cgroup', 'interface'], `${label}.attach`, attachEntry.value);
    const ifaceEntry = entryOf(attach, 'interface');
    iface = ifaceEntry ? check.string(ifaceEntry.value, ifaceEntry.keyNode, `${label}.attach.interface`) : undefined;
    if (iface !== undefined && !IFNAME.test(iface)) {
      check.error(ifaceEntry?.value, attachEntry.value, `${label}.attach.interface "${iface}": an interface name (letters, digits, _ . @ -, at most 15)`);
    }
    const cgroupEntry = entryOf(attach, 'cgroup');
    cgroup = cgroupEntry ? check.string(cgroupEntry.value, cgroupEntry.keyNode, `${label}.attach.cgroup`) : undefined;
    if (cgroup !== undefined && (!CGROUP_PATH.test(cgroup) || cgroup.split('/').includes('..'))) {
      check.error(cgroupEntry?.value, attachEntry.value, `${label}.attach.cgroup "${cgroup}": a path below the cgroup2 mount, without "..", spaces or shell characters`);
    }
  }
  const loaded = template?.programs.filter((p) => load === undefined || load.includes(p.name)) ?? [];
  if (template && cgroup === undefined && loaded.some((p) => p.attach === 'cgroup')) {
    check.error(attachEntry?.value ?? node, fallback, `${label}: template ${template.name} attaches to a cgroup: add "attach: { cgroup: <path below the cgroup2 mount> }"`);
  }
  if (template && iface === undefined && loaded.some((p) => p.attach === 'xdp' || p.attach === 'tc')) {
    check.error(attachEntry?.value ?? node, fallback, `${label}: template ${template.name} attaches to a network interface: add "attach: { interface: <name> }"`);
  }

  const settingsEntry = get('settings');
  const settings = settingsEntry && template ? readSettings(check, settingsEntry.value, settingsEntry.keyNode, label, template.parameters) : {};

  const rulesEntry = get('rules');
  let rules: RuleDef[] | undefined;
  if (rulesEntry && template) {
    if (template.policy !== RULES_POLICY) check.error(rulesEntry.keyNode, node, `${label}: template ${template.name} takes no rules (cgroup-skb-policy does)`);
    else rules = readRules(check, rulesEntry.value, rulesEntry.keyNode, label);
  }
  const nextHopEntry = get('nextHop');
  let nextHop: string | undefined;
  if (nextHopEntry && template) {
    const value = scalar(nextHopEntry.value);
    if (template.policy !== GATEWAY_POLICY) check.error(nextHopEntry.keyNode, node, `${label}: template ${template.name} takes no nextHop (xdp-maglev-gateway does)`);
    else if (typeof value !== 'string' || !macBytes(value)) check.error(nextHopEntry.value, nextHopEntry.keyNode, `${label}.nextHop must be a MAC address such as 02:00:00:00:00:01 (the router towards the gateways)`);
    else nextHop = value.toLowerCase();
  }

  if (check.problems.length > problemsBefore || name === undefined || template === undefined) return undefined;
  const attach = { ...(cgroup !== undefined ? { cgroup } : {}), ...(iface !== undefined ? { interface: iface } : {}) };
  return { name, template: template.name, attach, ...(load ? { load } : {}), settings, ...(rules ? { rules } : {}), ...(nextHop ? { nextHop } : {}), at: check.at(node, fallback) };
}

/** `programs:`: which templates to load, where to attach them, their settings. */
export function readPrograms(check: YamlChecker, node: unknown, fallback: unknown, catalog: TemplateCatalog): ProgramDef[] {
  const programs: ProgramDef[] = [];
  const names = new Map<string, Position>();
  check.items(node, fallback, 'programs').forEach((item, i) => {
    const program = readProgram(check, item, node, i, catalog);
    if (!program) return;
    const first = names.get(program.name);
    if (first) return check.error(item, node, `program name "${program.name}" is used twice (first at line ${first.line}:${first.col})`);
    names.set(program.name, program.at);
    programs.push(program);
  });
  return programs;
}
