import '@picocss/pico/css/pico.min.css';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { loadConfig } from './config.ts';
import { startSession, type Start } from './auth/session.ts';
import { createConsoleClient } from './api/client.ts';
import { App } from './app.tsx';
import { SignInPage } from './pages/sign-in.tsx';

const root = document.getElementById('app')!;

async function boot() {
  const config = await loadConfig();
  const show = (start: Start) => {
    if ('signedOut' in start) {
      render(<SignInPage {...start.signedOut} />, root);
      return;
    }
    const { session } = start;
    const client = createConsoleClient(config.apiUrl, session.token);
    const onSignOut = async () => {
      await session.signOut();
      show(await startSession(config));
    };
    render(<App client={client} session={session} onSignOut={onSignOut} />, root);
  };
  show(await startSession(config));
}

boot().catch((e: unknown) => {
  render(<SignInPage problem={`The console could not start: ${e instanceof Error ? e.message : String(e)}`} />, root);
});
