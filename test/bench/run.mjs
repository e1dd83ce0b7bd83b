// `npm run bench`: every benchmark, each printing its figures beside the named peer.
import { run as parse } from './parse.bench.mjs';
import { run as forwarder } from './forwarder.bench.mjs';
import { run as failover } from './failover.bench.mjs';
import { run as flood } from './flood.bench.mjs';
import { run as connflood } from './connflood.bench.mjs';
import { run as scheduler } from './scheduler.bench.mjs';
import { run as checkers } from './checkers.bench.mjs';
import { run as lab } from './lab.bench.mjs';
import { run as scale } from './scale.bench.mjs';
import { run as vmDataplane } from './vm-dataplane.bench.mjs';

await parse();
await failover();
await flood();
await forwarder();
await connflood();
await scheduler();
await checkers();
await lab();
await scale();
await vmDataplane();
