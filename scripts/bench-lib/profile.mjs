// Reads the .cpuprofile that `node --cpu-prof` wrote and sums self time per function and per
// package, the quickest view of where a process spends its CPU.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * @param {string} dir where --cpu-prof-dir pointed
 * @param {number} top how many functions to keep
 */
export async function summariseProfiles(dir, top = 20) {
  const files = (await readdir(dir).catch(() => [])).filter((file) => file.endsWith('.cpuprofile'));
  const byFunction = new Map();
  const byPackage = new Map();
  let total = 0;

  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8'));
    const selfTime = selfTimes(profile);

    for (const node of profile.nodes) {
      const micros = selfTime.get(node.id) ?? 0;
      if (micros === 0) continue;
      total += micros;
      add(byFunction, functionKey(node.callFrame), micros);
      add(byPackage, packageOf(node.callFrame), micros);
    }
  }

  const rank = (map, count) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => ({
        name,
        ms: micros / 1000,
        share: total === 0 ? 0 : micros / total,
      }));

  return {
    files,
    totalMs: total / 1000,
    functions: rank(byFunction, top),
    packages: rank(byPackage, 15),
  };
}

/** Self time per node id: each sample's time delta belongs to the node it hit. */
function selfTimes(profile) {
  const times = new Map();
  const { samples = [], timeDeltas = [] } = profile;

  samples.forEach((id, index) => {
    times.set(id, (times.get(id) ?? 0) + Math.max(0, timeDeltas[index] ?? 0));
  });

  return times;
}

function add(map, key, micros) {
  map.set(key, (map.get(key) ?? 0) + micros);
}

function functionKey({ functionName, url, lineNumber }) {
  const where = url === '' ? '' : ` ${shortUrl(url)}:${lineNumber + 1}`;

  return `${functionName || '(anonymous)'}${where}`;
}

function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');

  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length);

  return path.replace(/^.*\/packages\//, 'packages/');
}

/** A coarse owner for a frame: an npm package, a Tollgate package, node itself, or V8. */
function packageOf({ url, functionName }) {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];

  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');

  if (inModules >= 0) {
    const parts = path.slice(inModules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }

  const tollgate = /\/packages\/([^/]+)\//.exec(path);

  return tollgate ? `@tollgate/${tollgate[1]}` : path;
}
