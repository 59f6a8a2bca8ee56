/**
 * Entry of a worker thread that parses one big feed and posts the result (or null when the
 * text is no feed); the server stops it when it overruns its time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseFeedText } from './feed-parse';

const { text, url } = workerData as { text: string; url: string };
parentPort!.postMessage(parseFeedText(text, url));
