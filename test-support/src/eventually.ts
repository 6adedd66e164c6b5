/** Whether `condition` holds within `timeoutMs`, checked every `intervalMs` (and once more at the deadline). */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, intervalMs))) {
    if (await condition()) return true;
  }
  return condition();
}
