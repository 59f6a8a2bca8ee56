// Install step: the embedded database copies /dev/blob data (how Switchboard hands it plugin
// archives) one byte at a time in a JavaScript loop; this swaps the loop for one typed-array
// copy, which makes storing a 10 MB archive about 20 ms faster. The change is a plain string
// replacement in the pinned version's CommonJS build; if the text is not found (another
// version), nothing is changed and only the speed-up is lost.
const { readFileSync, writeFileSync } = require('node:fs');

const file = require.resolve('@electric-sql/pglite');
const loop = 'let F=Math.min(A.length-D,T);for(let U=0;U<F;U++)b[k+U]=A[D+U];return F';
const copy = 'let F=Math.min(A.length-D,T);b.set(A.subarray(D,D+F),k);return F';

const source = readFileSync(file, 'utf8');
if (source.includes(copy)) {
  process.exit(0);
} else if (source.includes(loop)) {
  writeFileSync(file, source.replace(loop, copy));
  console.log('patched the embedded database blob reader');
} else {
  console.warn('embedded database blob reader not recognised; left as it is');
}
