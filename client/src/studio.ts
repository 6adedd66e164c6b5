import { randomUUID } from 'node:crypto';
import type { WorkDoneParams } from '@ebpf-studio/studio-protocol';
import { CancellationError, window, type CancellationToken, type Progress } from 'vscode';
import { LSPErrorCodes, ResponseError, WorkDoneProgress, type LanguageClient } from 'vscode-languageclient/node';

/** The message of whatever a request rejected with. */
export function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether a request ended because the user cancelled it (a progress notification's Cancel). */
function cancelled(err: unknown): boolean {
  return err instanceof CancellationError || (err instanceof ResponseError && err.code === LSPErrorCodes.RequestCancelled);
}

/** The language client's custom requests (ebpfStudio/*), with the failure shown to the user. */
export class Studio {
  constructor(readonly client: LanguageClient) {}

  /** `params` travel by name; an absent token is not passed on (as a trailing undefined, the params would go as a list `[params, null]`). */
  request<R>(method: string, params: object, token?: CancellationToken): Promise<R> {
    return token ? this.client.sendRequest<R>(method, params, token) : this.client.sendRequest<R>(method, params);
  }

  /**
   * A long request whose server reports what it is doing (LSP work-done progress, e.g. "uploading the
   * Node runtime 12.3/42.7 MB") into a progress notification's message; its Cancel cancels the request.
   */
  async requestWithProgress<R>(method: string, params: WorkDoneParams, progress: Progress<{ message?: string }>, token: CancellationToken): Promise<R> {
    const workDoneToken = randomUUID();
    const listening = this.client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      if (value.kind !== 'end' && value.message) progress.report({ message: value.message });
    });
    try {
      return await this.client.sendRequest<R>(method, { ...params, workDoneToken }, token);
    } finally {
      listening.dispose();
    }
  }

  /**
   * Run a step; when it fails, an error notification names what failed and why, with a Retry button
   * that runs the step again. Resolves with the step's value, or undefined once the user gives up
   * or cancels.
   */
  async withRetry<T>(what: string, step: () => PromiseLike<T>): Promise<T | undefined> {
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (cancelled(err)) return undefined;
        const choice = await window.showErrorMessage(`${what} failed: ${reason(err)}`, 'Retry');
        if (choice !== 'Retry') return undefined;
      }
    }
  }
}
