/** Entry point: `node main.js --stdio` serves LSP on stdin/stdout. */
import { startLanguageServer } from './server';

startLanguageServer();
