import type { ProgramDef } from './policy-model';
import type { TemplateManifest } from './template-catalog';

/**
 * A program's `settings:` (already checked against the template's parameters) as the NAME → integer text
 * that `verifySource`'s `sets` and the engine's settingsToPatches take: true/false become 1/0, and an
 * `ipv4` parameter becomes the number whose little-endian bytes are the address in network order, and an
 * `ipv6` parameter stays the address text (settingsToPatches writes its 16 bytes in network order).
 */
export function programSets(program: ProgramDef, template: TemplateManifest): Record<string, string> {
  const sets: Record<string, string> = {};
  for (const [name, value] of Object.entries(program.settings)) {
    const parameter = template.parameters.find((p) => p.name === name);
    if (parameter?.format === 'ipv6' && typeof value === 'string') {
      sets[name] = value;
    } else if (parameter?.format === 'ipv4' && typeof value === 'string') {
      sets[name] = String(Buffer.from(value.split('.').map(Number)).readUInt32LE(0));
    } else {
      sets[name] = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    }
  }
  return sets;
}
