import { mount } from 'svelte';
import App from './App.svelte';
// After App: the theme's rules come after the components' in the built CSS, where they were when App.svelte held them.
import './theme.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

export default mount(App, { target });
