import { isMap } from 'yaml';
import { isPlainName } from '@ebpf-studio/remote-agent';
import type { Position, ProgramDef, SettingValue } from './policy-model';
import { findTemplate, type TemplateCatalog, type TemplateParameter } from './template-catalog';
import { entryOf, scalar, type YamlChecker, type YamlEntry } from './yaml-checker';

const PROGRAM_KEYS = ['name', 'template', 'attach', 'load', 'settings'];
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

function readProgram(check: YamlChecker, node: unknown, fallback: unknown, index: number, catalog: TemplateCatalog): ProgramDef | undefined {
  const where = `programs[${index}]`;
  const entries = check.pairs(node, fallback, where);
  if (!isMap(node)) return undefined;
  check.unknownKeys(entries, PROGRAM_KEYS, where, node);
  const get = (key: string): YamlEntry | undefined => entryOf(entries, key);
  const problemsBefore = check.problems.length;

  const nameEntry = get('name');
  const name = nameEntry ? check.string(nameEntry.value, nameEntry.keyNode, `${where}.name`) : undefined;
  if (!nameEntry) check.error(node, fallback, `${where} has no name`);
  else if (name !== undefined && !isPlainName(name)) check.error(nameEntry.value, node, `${where}.name ${JSON.stringify(name)}: use letters, digits, ".", "_" and "-"`);
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

  if (check.problems.length > problemsBefore || name === undefined || template === undefined) return undefined;
  const attach = { ...(cgroup !== undefined ? { cgroup } : {}), ...(iface !== undefined ? { interface: iface } : {}) };
  return { name, template: template.name, attach, ...(load ? { load } : {}), settings, at: check.at(node, fallback) };
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
