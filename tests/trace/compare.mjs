// debug_traceCall and eth_createAccessList on a live `jitevm serve`,
// compared with anvil on the same state: generated scenarios (at least 50
// per tracer) for callTracer, prestateTracer (plain and diffMode, with
// disableCode/disableStorage), the struct logger (with enableMemory,
// disableStack, disableStorage, enableReturnData), and eth_createAccessList
// (with and without a caller-supplied list). Run by tests/trace-e2e.sh,
// which starts both servers and installs solc/anvil under build/clients.
//
// Usage: node compare.mjs <clients dir> <jitevm url> <admin token> <anvil url>
//
// Every answer must be identical after one normalization per documented
// departure of anvil from geth (DEPARTURES below, each with what geth
// does); a departure that fires is counted and printed once. Some checks
// also assert values computed here, so two servers agreeing on a wrong
// answer fail too.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';
import { flatten } from '../clients/flatten.mjs';

const [clientsDir, jitevmUrl, adminToken, anvilUrl] = process.argv.slice(2);
if (!anvilUrl) {
    console.error('usage: node compare.mjs <clients dir> <jitevm url> <admin token> <anvil url>');
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(clientsDir), 'package.json'));
const solc = require('solc');
const ethers = require('ethers');

// ------------------------------------------------------------ contracts
const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = JSON.parse(solc.compile(JSON.stringify({
    language: 'Solidity',
    sources: {
        'Contracts.sol': { content: fs.readFileSync(path.join(here, '..', 'clients', 'Contracts.sol'), 'utf8') },
        'Probes.sol': { content: fs.readFileSync(path.join(here, 'Probes.sol'), 'utf8') },
    },
    settings: {
        evmVersion: 'cancun',
        optimizer: { enabled: true, runs: 200 },
        outputSelection: { '*': { '*': ['abi', 'evm.deployedBytecode.object', 'evm.bytecode.object'] } },
    },
})));
for (const e of compiled.errors || []) if (e.severity === 'error') throw new Error(e.formattedMessage);
const contract = (file, name) => ({
    iface: new ethers.Interface(compiled.contracts[file][name].abi),
    code: '0x' + compiled.contracts[file][name].evm.deployedBytecode.object,
    initcode: '0x' + compiled.contracts[file][name].evm.bytecode.object,
});
const TOKEN = contract('Contracts.sol', 'Token'), POOL = contract('Contracts.sol', 'Pool');
const AGG = contract('Contracts.sol', 'Aggregator');
const VAULT = contract('Probes.sol', 'Vault'), PROBER = contract('Probes.sol', 'Prober'), CHILD = contract('Probes.sol', 'Child');

const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const OTHER = '0x000000000000000000000000000000000000beef';
const TOKEN_A = '0x00000000000000000000000000000000000a0001';
const TOKEN_B = '0x00000000000000000000000000000000000a0002';
const POOL_ADDR = '0x00000000000000000000000000000000000a0003';
const AGG_ADDR = '0x00000000000000000000000000000000000a0004';
const VAULT_ADDR = '0x00000000000000000000000000000000000a0005';
const PROBER_ADDR = '0x00000000000000000000000000000000000a0006';
const E18 = 10n ** 18n;
const word = (v) => '0x' + BigInt(v).toString(16).padStart(64, '0');
const coder = ethers.AbiCoder.defaultAbiCoder();
const mapSlot = (key, slot) => ethers.keccak256(coder.encode(['address', 'uint256'], [key, slot]));
const uintSlot = (key, slot) => ethers.keccak256(coder.encode(['uint256', 'uint256'], [key, slot]));
const nestedSlot = (k1, k2, slot) => ethers.keccak256(coder.encode(['address', 'bytes32'], [k2, mapSlot(k1, slot)]));

// ------------------------------------------------------------ raw RPC
let rpcId = 0;
async function rpcRaw(url, method, params, token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) });
    return res.json();
}
async function rpc(url, method, params, token) {
    const body = await rpcRaw(url, method, params, token);
    if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
    return body.result;
}

async function load(url, token) {
    const set = (m, p) => rpc(url, m, p, token);
    for (const [a, c] of [[TOKEN_A, TOKEN], [TOKEN_B, TOKEN], [POOL_ADDR, POOL], [AGG_ADDR, AGG], [VAULT_ADDR, VAULT], [PROBER_ADDR, PROBER]])
        await set('anvil_setCode', [a, c.code]);
    await set('anvil_setBalance', [SENDER, '0x' + (100n * E18).toString(16)]);
    await set('anvil_setNonce', [SENDER, '0x0']);
    await set('anvil_setBalance', [PROBER_ADDR, '0x' + (3n * E18).toString(16)]);
    await set('anvil_setBalance', [VAULT_ADDR, '0x1234']);
    await set('anvil_setStorageAt', [TOKEN_A, mapSlot(SENDER, 0n), word(1000n * E18)]);
    await set('anvil_setStorageAt', [TOKEN_A, mapSlot(POOL_ADDR, 0n), word(1000n * E18)]);
    await set('anvil_setStorageAt', [TOKEN_B, mapSlot(POOL_ADDR, 0n), word(5000n * E18)]);
    await set('anvil_setStorageAt', [TOKEN_A, word(2n), word(2000n * E18)]);
    await set('anvil_setStorageAt', [TOKEN_B, word(2n), word(5000n * E18)]);
    await set('anvil_setStorageAt', [TOKEN_A, nestedSlot(SENDER, POOL_ADDR, 1n), word(100n * E18)]);
    await set('anvil_setStorageAt', [POOL_ADDR, word(0n), word(1000n * E18)]);
    await set('anvil_setStorageAt', [POOL_ADDR, word(1n), word(5000n * E18)]);
    await set('anvil_setStorageAt', [POOL_ADDR, word(2n), '0x' + TOKEN_A.slice(2).padStart(64, '0')]);
    await set('anvil_setStorageAt', [POOL_ADDR, word(3n), '0x' + TOKEN_B.slice(2).padStart(64, '0')]);
    for (let k = 0n; k < 4n; k++) await set('anvil_setStorageAt', [VAULT_ADDR, uintSlot(k, 0n), word(100n + k)]);
    await set('anvil_setStorageAt', [VAULT_ADDR, word(1n), word(5n)]);
}

// ------------------------------------------------------------ the calls
// A generated call: every kind of frame and outcome the contracts give.
const quote = (amountIn) => (amountIn * 997n * 5000n * E18) / (1000n * E18 * 1000n + amountIn * 997n);
function makeCall(i, rnd) {
    const amount = BigInt(rnd(2000)) * E18 / 10n;
    const k = BigInt(rnd(6));
    const kind = i % 16;
    let to, data, value;
    const enc = (c, f, args) => c.iface.encodeFunctionData(f, args);
    switch (kind) {
    case 0: to = TOKEN_A; data = enc(TOKEN, 'transfer', [OTHER, amount]); break;
    case 1: to = TOKEN_A; data = enc(TOKEN, 'approve', [POOL_ADDR, amount]); break;
    case 2: to = POOL_ADDR; data = enc(POOL, 'swap', [amount / 20n, rnd(2) ? 0n : quote(amount / 20n) + 1n]); break;
    case 3: to = POOL_ADDR; data = enc(POOL, 'fail', [BigInt(rnd(4))]); break;
    case 4: to = AGG_ADDR; data = enc(AGG, 'tryStatic', [TOKEN_A, rnd(2) ? enc(TOKEN, 'balanceOf', [SENDER]) : enc(TOKEN, 'totalSupply', [])]); break;
    case 5: to = AGG_ADDR; data = enc(AGG, 'tryDelegate', [VAULT_ADDR, enc(VAULT, 'bump', [k])]); break;
    case 6: to = undefined; data = rnd(2) ? CHILD.initcode : TOKEN.initcode; value = rnd(2) ? '0x' + (10n ** 15n).toString(16) : undefined; break;
    case 7: to = PROBER_ADDR; data = enc(PROBER, 'probe', [VAULT_ADDR, k]); break;
    case 8: to = PROBER_ADDR; data = enc(PROBER, 'bumpThenProbe', [VAULT_ADDR, k]); break;
    case 9: to = PROBER_ADDR; data = [enc(PROBER, 'deploy', [k]), enc(PROBER, 'deployPlain', []), enc(PROBER, 'deployTooRich', []),
                                      enc(PROBER, 'deployTwice', [k])][rnd(4)]; break;
    case 10: to = PROBER_ADDR; data = enc(PROBER, 'sendValue', [rnd(2) ? OTHER : VAULT_ADDR, rnd(2) ? 5n * E18 : 10n ** 12n]); break;
    case 11: to = PROBER_ADDR; data = enc(PROBER, 'recurse', [BigInt(1 + rnd(3))]); break;
    case 12: to = PROBER_ADDR; data = enc(PROBER, 'accountInfo', [[SENDER, VAULT_ADDR, OTHER, TOKEN_B][rnd(4)]]); break;
    case 13: to = VAULT_ADDR; data = rnd(2) ? enc(VAULT, 'clear', [k]) : enc(VAULT, 'bump', [k]); value = rnd(2) ? '0x2a' : undefined; break;
    case 14: to = VAULT_ADDR; data = [enc(VAULT, 'invalidOp', []), enc(VAULT, 'exhaust', []), enc(VAULT, 'burn', []), enc(VAULT, 'spin', [3n])][rnd(4)]; break;
    default: {
        const calls = [];
        for (let n = 0; n < 1 + rnd(3); n++) {
            const which = rnd(4);
            if (which === 0) calls.push([TOKEN_A, false, enc(TOKEN, 'balanceOf', [SENDER])]);
            else if (which === 1) calls.push([POOL_ADDR, true, enc(POOL, 'fail', [BigInt(rnd(3))])]);
            else if (which === 2) calls.push([VAULT_ADDR, true, enc(VAULT, 'bump', [k])]);
            else calls.push([POOL_ADDR, false, enc(POOL, 'quote', [amount])]);
        }
        to = AGG_ADDR; data = enc(AGG, 'aggregate3', [calls]); value = rnd(2) ? '0x7' : undefined;
    }
    }
    const tx = { from: SENDER, data, gas: kind === 14 ? '0x30d40' : '0x1e8480' };
    if (to) tx.to = to;
    if (value) tx.value = value;
    return { tx, label: `${to ? to.slice(-4) : 'create'} ${data.slice(0, 10)}` };
}

function generate(n, seed, configFor) {
    const out = [];
    const rnd = (m) => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % m; };
    for (let i = 0; out.length < n; i++) {
        const { tx, label } = makeCall(i, rnd);
        const cfg = configFor(rnd);
        out.push({ label, params: [tx, 'latest', cfg] });
    }
    return out;
}

// ------------------------------------------------------------ departures
// Where anvil itself departs from geth: each normalization is applied to
// the answer named, and recorded when it changed something.
const DEPARTURES = {
    'struct.returnData': 'anvil prints "returnData":"0x" on every step; geth (eth/tracers/logger, structLogLegacy) leaves returnData out unless enableReturnData is set and the data is non-empty',
    'struct.memory': 'anvil prints "memory":[] for an empty memory; geth leaves memory out when it is empty or enableMemory is off',
    'struct.refund': 'anvil prints "refund":0; geth\'s refund field is omitempty',
    'prestate.codeHash': 'geth\'s prestateTracer (since 1.14.12) gives every account with code its codeHash; anvil does not',
    'prestate.empty': 'geth drops accounts that were empty (EIP-161) before the transaction from pre unless includeEmpty; anvil keeps them',
    'struct.stepError': 'a failed step\'s error: anvil prints revm\'s name ("Some(ReentrancySentryOOG)", "Some(InvalidFEOpcode)"); geth prints its error\'s text ("out of gas: not enough gas for reentrancy sentry", "invalid opcode: INVALID")',
    'struct.failedSstoreStorage': 'on an SSTORE that fails, anvil\'s storage shows the slot\'s value before it; geth records the value the SSTORE was writing (logger.go OnOpcode reads it from the stack)',
    'prestate.disableCode': 'with disableCode anvil judges emptiness without the code and drops code-only accounts (no balance, no nonce); geth fetches the code first for the emptiness check (prestate.go lookupAccount) and keeps them',
    'accessList.failed': 'anvil answers eth_createAccessList of a reverting or failing call with an error; geth returns the list with `error` set (internal/ethapi CreateAccessList), as jitevm does',
    'accessList.order': 'anvil lists accounts and slots in the order first touched; geth sorts both ascending (eth/tracers/logger accessList())',
    'call.collision': 'anvil names a CREATE2 onto a taken address with revm\'s "CreateCollision"; geth says "contract address collision" (core/vm ErrContractAddressCollision)',
    'call.onlyTopCall': 'with onlyTopCall anvil still lists a SELFDESTRUCT under the top frame; geth\'s callTracer keeps no frame below the top one (native/call.go OnEnter returns for depth > 0)',
    'call.gas': 'the top frame\'s gas: anvil reports the gas left after the intrinsic cost; geth\'s callTracer reports the transaction\'s gas limit',
};
const fired = {};
const fire = (name) => { fired[name] = (fired[name] || 0) + 1; };

function normalizeStruct(answer, cfg) {
    if (!answer || !Array.isArray(answer.structLogs)) return answer;
    for (const s of answer.structLogs) {
        if ('returnData' in s && (s.returnData === '0x' || !cfg.enableReturnData)) { delete s.returnData; fire('struct.returnData'); }
        if ('memory' in s && (s.memory.length === 0 || !cfg.enableMemory)) { delete s.memory; fire('struct.memory'); }
        if (s.refund === 0) { delete s.refund; fire('struct.refund'); }
    }
    return answer;
}
function stripCodeHash(accounts) {
    for (const a of Object.values(accounts || {})) if (a && 'codeHash' in a) { delete a.codeHash; fire('prestate.codeHash'); }
}
const isEmptyAccount = (a) => a && Object.keys(a).every((k) => k === 'balance') && BigInt(a.balance ?? 0) === 0n;
function normalizePrestateJitevm(answer, diff) {
    if (!answer || answer.rpcError) return answer;
    if (diff) { stripCodeHash(answer.pre); stripCodeHash(answer.post); } else stripCodeHash(answer);
    return answer;
}
function normalizePrestateAnvil(answer, diff) {
    if (!answer || answer.rpcError) return answer;
    const pre = diff ? answer.pre : answer;
    for (const [addr, a] of Object.entries(pre || {})) if (isEmptyAccount(a)) { delete pre[addr]; fire('prestate.empty'); }
    return answer;
}

// ------------------------------------------------------------ comparing
let pass = 0, fail = 0;
const failures = [];
function compare(name, j, a, fieldDeparture) {
    const fj = flatten(j, '', {}), fa = flatten(a, '', {});
    const diffs = [];
    for (const f of new Set([...Object.keys(fj), ...Object.keys(fa)])) {
        if (JSON.stringify(fj[f]) === JSON.stringify(fa[f])) continue;
        const why = fieldDeparture ? fieldDeparture(f, fj[f], fa[f]) : null;
        if (why) { fire(why); continue; }
        diffs.push(`${f}: jitevm ${JSON.stringify(fj[f])}, anvil ${JSON.stringify(fa[f])}`);
    }
    if (diffs.length) {
        fail++;
        failures.push(`FAIL ${name}\n    ${diffs.slice(0, 6).join('\n    ')}${diffs.length > 6 ? `\n    ... ${diffs.length - 6} more` : ''}`);
    } else pass++;
}
async function both(method, params) {
    const [j, a] = await Promise.all([rpcRaw(jitevmUrl, method, params), rpcRaw(anvilUrl, method, params)]);
    const take = (b) => (b.error ? { rpcError: b.error.message } : b.result);
    return [take(j), take(a)];
}

// ------------------------------------------------------------ run
const anvilBlock = await rpc(anvilUrl, 'eth_getBlockByNumber', ['latest', false]);
await rpc(jitevmUrl, 'jitevm_setBlock', [{ number: anvilBlock.number, timestamp: anvilBlock.timestamp, gasLimit: anvilBlock.gasLimit,
                                           baseFeePerGas: anvilBlock.baseFeePerGas, prevRandao: anvilBlock.mixHash,
                                           coinbase: anvilBlock.miner, excessBlobGas: anvilBlock.excessBlobGas }], adminToken);
await load(jitevmUrl, adminToken);
await load(anvilUrl);

const stats = {};
const count = (tracer, what, n = 1) => { stats[tracer] = stats[tracer] || {}; stats[tracer][what] = (stats[tracer][what] || 0) + n; };

// Fixed calls every tracer also gets: a CREATE refused for its value, a
// CREATE2 onto a taken address, a value send refused for its balance.
const FIXED = [
    PROBER.iface.encodeFunctionData('deployTooRich', []),
    PROBER.iface.encodeFunctionData('deployTwice', [3n]),
    PROBER.iface.encodeFunctionData('sendValue', [OTHER, 5n * E18]),
].map((data) => ({ label: `0006 ${data.slice(0, 10)} (fixed)`, tx: { from: SENDER, to: PROBER_ADDR, data, gas: '0x1e8480' } }));
// An SSTORE left with less than the EIP-2200 sentry's 2300 gas, and an INVALID.
FIXED.push({ label: '0005 exhaust (fixed)', tx: { from: SENDER, to: VAULT_ADDR, data: VAULT.iface.encodeFunctionData('exhaust', []), gas: '0x30d40' } });
FIXED.push({ label: '0005 invalidOp (fixed)', tx: { from: SENDER, to: VAULT_ADDR, data: VAULT.iface.encodeFunctionData('invalidOp', []), gas: '0x30d40' } });
const withFixed = (list, cfg) => [...list, ...FIXED.map((f) => ({ label: f.label, params: [f.tx, 'latest', cfg] }))];

// callTracer
for (const sc of withFixed(generate(60, 11, (rnd) => ({ tracer: 'callTracer', tracerConfig: { withLog: rnd(2) === 1, onlyTopCall: rnd(5) === 0 } })),
                           { tracer: 'callTracer', tracerConfig: { withLog: true, onlyTopCall: false } })) {
    const [j, a] = await both('debug_traceCall', sc.params);
    const t = JSON.stringify(j);
    if (t.includes('"calls"')) count('callTracer', 'with inner calls');
    if (t.includes('"error"')) count('callTracer', 'with an error');
    if (t.includes('insufficient balance')) count('callTracer', 'with a refused call');
    if (/"type":"CREATE2?"[^{}]*"error"/.test(t) || /"error":"[^"]*"[^{}]*"type":"CREATE2?"/.test(t)) count('callTracer', 'with a failed creation');
    if (t.includes('"logs"')) count('callTracer', 'with logs');
    count('callTracer', 'scenarios');
    compare(`callTracer ${sc.label} ${JSON.stringify(sc.params[2].tracerConfig)}`, j, a, (f, vj, va) =>
        f === 'gas' ? 'call.gas'
        : sc.params[2].tracerConfig.onlyTopCall && /^calls\./.test(f) && vj === undefined ? 'call.onlyTopCall'
        : /(^|\.)error$/.test(f) && vj === 'contract address collision' && va === 'CreateCollision' ? 'call.collision'
        : null);
}

// prestateTracer, plain and diffMode
for (const diff of [false, true]) {
    const name = diff ? 'prestateTracer diffMode' : 'prestateTracer';
    for (const sc of withFixed(generate(55, diff ? 23 : 17, (rnd) => {
        const c = { diffMode: diff };
        const r = rnd(6);
        if (r === 0) c.disableCode = true;
        if (r === 1) c.disableStorage = true;
        return { tracer: 'prestateTracer', tracerConfig: c };
    }), { tracer: 'prestateTracer', tracerConfig: { diffMode: diff } })) {
        let [j, a] = await both('debug_traceCall', sc.params);
        j = normalizePrestateJitevm(j, diff);
        a = normalizePrestateAnvil(a, diff);
        const t = JSON.stringify(j);
        count(name, 'scenarios');
        if (t.includes('"storage"')) count(name, 'with storage');
        if (diff && j && j.post && Object.keys(j.post).length) count(name, 'with post changes');
        const cfg = sc.params[2].tracerConfig;
        compare(`${name} ${sc.label} ${JSON.stringify(cfg)}`, j, a, (f, vj, va) =>
            cfg.disableCode && /\.balance$/.test(f) && vj === '0x0' && va === undefined ? 'prestate.disableCode' : null);
    }
}

// includeEmpty: geth then keeps the accounts that were empty, as anvil
// always does, so no normalization but codeHash's.
for (const sc of generate(20, 53, () => ({ tracer: 'prestateTracer', tracerConfig: { includeEmpty: true } }))) {
    let [j, a] = await both('debug_traceCall', sc.params);
    j = normalizePrestateJitevm(j, false);
    count('prestateTracer includeEmpty', 'scenarios');
    compare(`prestateTracer includeEmpty ${sc.label}`, j, a);
}

// The struct logger
for (const sc of withFixed(generate(52, 31, (rnd) => {
    const c = {};
    if (rnd(3) === 0) c.enableMemory = true;
    if (rnd(4) === 0) c.disableStack = true;
    if (rnd(4) === 0) c.disableStorage = true;
    if (rnd(3) === 0) c.enableReturnData = true;
    return c;
}), { enableReturnData: true })) {
    let [j, a] = await both('debug_traceCall', sc.params);
    a = normalizeStruct(a, sc.params[2]);
    count('struct logger', 'scenarios');
    if (j && j.structLogs) {
        count('struct logger', 'steps', j.structLogs.length);
        if (j.structLogs.some((s) => s.depth > 1)) count('struct logger', 'with inner frames');
        if (j.failed) count('struct logger', 'failed');
    }
    const failedSteps = new Set((j?.structLogs || []).map((st, i) => (st.error ? String(i) : null)).filter((x) => x !== null));
    compare(`struct logger ${sc.label} ${JSON.stringify(sc.params[2])}`, j, a, (f, vj, va) => {
        const m = /^structLogs\.(\d+)\.(error|storage\..*)$/.exec(f);
        if (!m || !failedSteps.has(m[1])) return null;
        if (m[2] === 'error') return /^Some\(/.test(va ?? '') && typeof vj === 'string' ? 'struct.stepError' : null;
        return 'struct.failedSstoreStorage';
    });
}

// eth_createAccessList: generated calls, then with a caller-supplied list.
const byAddress = (x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0);
function sortAnvilList(a) {
    if (!a || !Array.isArray(a.accessList)) return a;
    const before = JSON.stringify(a.accessList);
    for (const e of a.accessList) e.storageKeys.sort();
    a.accessList.sort(byAddress);
    if (JSON.stringify(a.accessList) !== before) fire('accessList.order');
    return a;
}
for (const sc of generate(50, 41, () => ({}))) {
    const tx = { ...sc.params[0] };
    let [j, a] = await both('eth_createAccessList', [tx, 'latest']);
    count('eth_createAccessList', 'scenarios');
    if (j && j.error && a && a.rpcError) {
        fire('accessList.failed');
        count('eth_createAccessList', 'failed (anvil: an error)');
        if (!Array.isArray(j.accessList) || !/^0x[0-9a-f]+$/.test(j.gasUsed)) { fail++; failures.push(`FAIL eth_createAccessList ${sc.label}: ${JSON.stringify(j)}`); } else pass++;
        continue;
    }
    compare(`eth_createAccessList ${sc.label}`, j, sortAnvilList(a));
}
const probeData = PROBER.iface.encodeFunctionData('probe', [VAULT_ADDR, 2n]);
{
    // The slot read in the frame that reverts (inside try/catch) is listed.
    const [j, a] = await both('eth_createAccessList', [{ from: SENDER, to: PROBER_ADDR, data: probeData, gas: '0x1e8480' }, 'latest']);
    const vault = (j.accessList || []).find((e) => e.address === VAULT_ADDR);
    if (!vault || !vault.storageKeys.includes(uintSlot(2n, 0n))) { fail++; failures.push(`FAIL access list keeps the reverted frame's slot: ${JSON.stringify(j)}`); } else pass++;
    compare('eth_createAccessList probe (revert under try/catch)', j, a);
    // A caller-supplied list: kept (an extra slot), merged with what runs.
    const extra = [{ address: TOKEN_B, storageKeys: [word(9n)] }];
    const [j2, a2] = await both('eth_createAccessList', [{ from: SENDER, to: PROBER_ADDR, data: probeData, gas: '0x1e8480', accessList: extra }, 'latest']);
    const tb = (j2.accessList || []).find((e) => e.address === TOKEN_B);
    if (!tb || tb.storageKeys[0] !== word(9n)) { fail++; failures.push(`FAIL caller list kept: ${JSON.stringify(j2)}`); } else pass++;
    compare('eth_createAccessList probe with a caller list', j2, sortAnvilList(a2));
    // The caller's entry for the recipient is dropped, as geth's
    // NewAccessListTracer drops excluded accounts (anvil keeps it, and
    // charges for it): the answer is the one without it.
    const withRecipient = [...extra, { address: PROBER_ADDR, storageKeys: [word(1n)] }];
    const j3 = await rpc(jitevmUrl, 'eth_createAccessList', [{ from: SENDER, to: PROBER_ADDR, data: probeData, gas: '0x1e8480', accessList: withRecipient }, 'latest']);
    if (JSON.stringify(j3) !== JSON.stringify(j2)) { fail++; failures.push(`FAIL the recipient's caller-supplied entry is dropped: ${JSON.stringify(j3)} vs ${JSON.stringify(j2)}`); } else pass++;
    console.log("  anvil departs from geth: anvil keeps a caller-supplied entry for the recipient (and charges for it); geth's NewAccessListTracer drops the sender's, recipient's and precompiles' entries");
}

for (const f of failures.slice(0, 40)) console.log(f);
if (failures.length > 40) console.log(`... ${failures.length - 40} more failures`);
for (const [name, n] of Object.entries(fired)) console.log(`  anvil departs from geth (${n}x) ${name}: ${DEPARTURES[name]}`);
for (const [tracer, s] of Object.entries(stats)) console.log(`  ${tracer}: ${Object.entries(s).map(([k, v]) => `${v} ${k}`).join(', ')}`);
const need = ['callTracer', 'prestateTracer', 'prestateTracer diffMode', 'struct logger'];
for (const t of need) if (!stats[t] || stats[t].scenarios < 50) { fail++; console.log(`FAIL fewer than 50 scenarios for ${t}`); }
if (!stats.callTracer?.['with a refused call']) { fail++; console.log('FAIL no scenario refuses a call for its balance'); }
console.log(`trace-compare: ${pass} answers identical to anvil's (after the departures above), ${fail} differ`);
process.exit(fail ? 1 : 0);
