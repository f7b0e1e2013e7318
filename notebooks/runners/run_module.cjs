// Compile, instantiate and call one export of a module with V8, in Node.js (notebook 04).
// Usage: node run_module.cjs MODULE.wasm EXPORT [INT ...]. Prints the result. The part that
// macwasm.memtrace counts lies between the two marks: opening paths that do not exist.
const fs = require("fs");

function mark(path) {
  try { fs.closeSync(fs.openSync(path, "r")); } catch (e) { /* the failed openat is the mark */ }
}

const [path, name, ...args] = process.argv.slice(2);
const bytes = fs.readFileSync(path);
mark("/macwasm-trace/begin");
const compiled = new WebAssembly.Module(bytes);
const result = new WebAssembly.Instance(compiled, {}).exports[name](...args.map(Number));
mark("/macwasm-trace/end");
process.stdout.write(`${result}\n`);
