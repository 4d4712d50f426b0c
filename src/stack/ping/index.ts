// The ping core: iputils' setup (setup.ts) and the engine (session.ts), for
// the ping command and for other front ends (fping, an exporter).
export * from './session.js';
export * from './setup.js';
export * from './fleet.js';
