import { LSPErrorCodes, ResponseError, type CancellationToken } from 'vscode-languageserver/node';

/** An AbortSignal that fires when the request's token is cancelled (for the layers below LSP). */
export function signalOf(token: CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

/** The answer to a request the client cancelled: the client takes it as the user's cancel and shows no error. */
export function cancelled(): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
}

/** Runs a request handler; once the client has cancelled, whatever it ends with becomes the cancelled answer. */
export async function answeringCancel<T>(token: CancellationToken, handler: (signal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    const result = await handler(signalOf(token));
    if (token.isCancellationRequested) throw cancelled();
    return result;
  } catch (err) {
    if (token.isCancellationRequested) throw cancelled();
    throw err;
  }
}
