/** Entry point: wait for the data (HTTP or webview message) and show it; a new data set replaces the page's. */
import './explorer.css';
import { Explorer } from './app';
import { receiveData } from './data';

let explorer: Explorer | undefined;

function showError(message: string): void {
  const banner = document.getElementById('message');
  if (!banner) return;
  banner.hidden = false;
  banner.classList.add('failed');
  banner.textContent = `Could not load the explorer's data: ${message}`;
}

receiveData({
  onData: (data) => {
    explorer?.dispose();
    explorer = new Explorer(data);
  },
  onError: showError,
  onSelectLine: (line) => explorer?.showLine(line),
});
