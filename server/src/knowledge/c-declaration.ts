/** Writes a C declaration of `name` with `type`: 'struct sock *' + 'sk' = 'struct sock *sk', 'int (*)(void *)' + 'cb' = 'int (*cb)(void *)'. */
export function declare(type: string, name: string): string {
  if (name === '') return type;
  if (type.includes('(*)')) return type.replace('(*)', `(*${name})`);
  return type.endsWith('*') ? `${type}${name}` : `${type} ${name}`;
}
