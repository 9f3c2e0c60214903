import './style.css';

import { render } from 'preact';

import { loadSession } from './api';
import { App } from './app';
import { startRouter } from './router';

startRouter();
void loadSession();
render(<App />, document.getElementById('app')!);
