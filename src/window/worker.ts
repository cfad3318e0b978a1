/** Entry of the engine worker (built to dist/worker.js): the real engine behind the window. */
import { Engine, type EngineOptions } from '../engine.js'
import { runEngineWorker } from './engine-worker.js'

await runEngineWorker(async (options) => await Engine.open(options as EngineOptions))
