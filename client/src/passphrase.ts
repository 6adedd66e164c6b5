import { StudioMethods, type PassphraseParams, type PassphraseResult } from '@ebpf-studio/studio-protocol';
import { window, type Disposable, type SecretStorage } from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';

const secretKey = (keyFile: string): string => `ebpfStudio.passphrase:${keyFile}`;

/**
 * Answers the server's `ebpfStudio/passphrase` requests for encrypted SSH identity files: from
 * SecretStorage, else by asking (a password input box) and keeping the answer there — never in
 * settings. A retry (the kept one was wrong) forgets it and asks again.
 */
export function servePassphrases(client: LanguageClient, secrets: SecretStorage): Disposable {
  return client.onRequest(StudioMethods.passphrase, async (params: PassphraseParams): Promise<PassphraseResult> => {
    const key = secretKey(params.key);
    if (params.retry) await secrets.delete(key);
    else {
      const kept = await secrets.get(key);
      if (kept !== undefined) return { passphrase: kept };
    }
    const passphrase = await window.showInputBox({
      title: `Passphrase for ${params.key}`,
      prompt: `${params.retry ? 'That passphrase was wrong. ' : ''}The SSH key to reach ${params.node ?? 'the node'} is encrypted; its passphrase is kept in VS Code's secret storage.`,
      password: true,
      ignoreFocusOut: true,
    });
    if (passphrase === undefined) return {};
    await secrets.store(key, passphrase);
    return { passphrase };
  });
}
