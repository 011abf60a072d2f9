// The static import graph of the app's ES modules (web/**/*.js and service-worker.js), and
// whether each module links: every static import names a file that exists and the exports
// it asks for. Nothing runs (linking only), so browser-only modules are fine here.
// Prints JSON: {modules: {path: [imported paths]}, exports: {path: [exported names]},
// errors: [message]}, paths relative to the repository ("web/outbox.js"); the worker's
// "./static/x" is web/x, as the server maps it.
// Run: node --experimental-vm-modules tests/js/module-graph.js [ROOT]
// ROOT (default: the repository) holds web/ and service-worker.js: tests/test_budget.py
// gives it the modules as the server sends them (the first screen's bundle).
// (tests/js/modules.test.js and tests/test_budget.py run it.)
import vm from 'node:vm';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(process.argv[2] || join(dirname(fileURLToPath(import.meta.url)), '../..'));
const WEB = join(ROOT, 'web');

function javascript(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return javascript(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

// The file a specifier names, from the module at `from` (absolute paths).
function resolveImport(specifier, from) {
  if (from === join(ROOT, 'service-worker.js') && specifier.startsWith('./static/')) {
    return join(WEB, specifier.slice('./static/'.length));
  }
  if (specifier.startsWith('/static/')) return join(WEB, specifier.slice('/static/'.length));
  return resolve(dirname(from), specifier);
}

function load(path, cache) {
  if (!cache.has(path)) {
    cache.set(path, new vm.SourceTextModule(readFileSync(path, 'utf8'), { identifier: relative(ROOT, path) }));
  }
  return cache.get(path);
}

const files = [join(ROOT, 'service-worker.js'), ...javascript(WEB)].sort();
const modules = {};
const exported = {};
const errors = new Set();
for (const path of files) {
  let module;
  try {
    module = load(path, new Map());
  } catch (error) {
    errors.add(`${relative(ROOT, path)}: ${error.message}`);
    continue;
  }
  modules[relative(ROOT, path)] = module.dependencySpecifiers.map((s) => relative(ROOT, resolveImport(s, path)));
  // Fresh instances per module linked: one module's failure does not hide another's.
  const cache = new Map([[path, module]]);
  try {
    await module.link((specifier, referrer) => {
      const target = resolveImport(specifier, join(ROOT, referrer.identifier));
      try {
        return load(target, cache);
      } catch (error) {
        throw new Error(`${referrer.identifier} imports ${specifier}: ${error.message}`);
      }
    });
    // The names alone: reading a value of a module that did not run throws.
    exported[relative(ROOT, path)] = Reflect.ownKeys(module.namespace).filter((key) => typeof key === 'string').sort();
  } catch (error) {
    errors.add(`${relative(ROOT, path)}: ${error.message}`);
  }
}
console.log(JSON.stringify({ modules, exports: exported, errors: [...errors].sort() }));
