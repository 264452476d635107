// Entry point: pick the language, load its messages, render the app. Nothing else runs at import time.
import { render } from 'preact';
import { App } from './app.tsx';
import { pickInitialLanguage, startI18n } from './i18n/i18n.ts';
import './styles/app.css';

await startI18n(pickInitialLanguage());
const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
render(<App />, root);
