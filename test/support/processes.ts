// The entry to the process starters for tests, hostile scenarios and benchmarks. Real parts,
// no mocks. The starters live in proc/, one module per thing started (core: the tracked
// spawn, the only importer of node:child_process outside src/; redis, mosquitto, node,
// topologies); importers use this module.
//
// API
//   startProcess(cmd, args, { cwd, env, stdin })   any long-running child → Proc
//   runCommand(cmd, args, { input, env })   a one-shot command → { code, stdout, stderr }
//   commandSync(cmd, args)                  the same, synchronously (module-level probes)
//   startRedis({ args, conf, sentinel, port, timeoutMs })
//       redis-server on a free port (≤ 55535, so a cluster bus port +10000 fits), ready when
//       it answers PING. `conf` is written to <dir>/redis.conf and passed first (a sentinel
//       rewrites it); `args` are `--name value` pairs (`--replicaof 127.0.0.1 6380`,
//       `--cluster-enabled yes`, `--appendonly yes`); `sentinel: true` adds `--sentinel`.
//       → RedisProcess: port, url, dir, pid, logs, stop, kill(sig), restart, pause (SIGSTOP),
//       resume (SIGCONT), cli(...args) (redis-cli against it).
//   startMosquitto({ config, dir, dropPrivileges, wrapper }) → MosquittoProcess (reload = SIGHUP;
//       `wrapper`: run under valgrind)
//   mosquittoPasswd(file, user, password)
//   startService({ env, nodeArgs, readyPath }) the built service (`node dist/src/cli.js serve`)
//   startNode([flags, script, args], env)   a node script of ours (bench children)
//   freePort(), testPrefix(name), cleanPrefix(url, prefix)

export * from './proc/core';
export * from './proc/ports';
export * from './proc/redis';
export * from './proc/mosquitto';
export * from './proc/node';
export * from './proc/topologies';
