import type { CompiledMap } from './compile-policy';
import { encodeRule, encodeRuleKey, SKB_MAPS } from './cgroup-skb-layout';
import type { RuleDef } from './policy-model';

/**
 * cgroup-skb-policy's `rules` LPM trie from a program's `rules:` (checked by read-programs.ts). A rule's
 * id — its index in rule_stats — is its position in the list; a rule without a direction is written
 * once per direction under the same id.
 */
export function compileRules(rules: readonly RuleDef[]): { readonly maps: readonly CompiledMap[] } {
  const entries = rules.flatMap((rule, id) =>
    (rule.direction ? [rule.direction] : (['ingress', 'egress'] as const)).map((direction) => ({
      key: encodeRuleKey({ direction, cidr: rule.cidr, protocol: rule.protocol ?? 'any', port: rule.port ?? 0 }),
      value: encodeRule(id, rule.action),
    })),
  );
  return { maps: [{ map: SKB_MAPS.rules, entries, stale: 'delete' }] };
}
