/**
 * Memory of a process tree, from /proc (Linux). PSS divides each shared page among the
 * processes that map it, so its sum over a tree counts every page once: the tree's real cost
 * (the database server's processes share most of theirs).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessMemory {
  pid: number;
  name: string;
  pssBytes: number;
  rssBytes: number;
}

export interface TreeMemory {
  pssBytes: number;
  processes: ProcessMemory[];
}

/** The process and every process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone in the meantime.
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

function processMemory(pid: number): ProcessMemory | null {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    const name = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return {
      pid,
      name: name.slice(0, 2).join(' ').slice(0, 60),
      pssBytes: kb('Pss') * 1024,
      rssBytes: kb('Rss') * 1024,
    };
  } catch {
    return null;
  }
}

export function processTreeMemory(root: number, options: { exclude?: number[] } = {}): TreeMemory {
  const processes = processTree(root)
    .filter((pid) => !options.exclude?.includes(pid))
    .map(processMemory)
    .filter((p): p is ProcessMemory => p !== null);
  return { pssBytes: processes.reduce((sum, p) => sum + p.pssBytes, 0), processes };
}
