// A dapp whose every request goes to a live jitevm (`serve --follow`, its
// upstream anvil): ethers v6 and viem, each as a dapp uses it, deploy the
// contracts of Contracts.sol with transactions signed by a dev key and
// sent through jitevm (eth_sendRawTransaction forwarded), wait for their
// receipts through jitevm (forwarded), read, simulate, estimate, swap,
// transfer and watch events through it. Each answer is compared with the
// same library's answer from anvil directly, asked at the same head (the
// reads wait until jitevm's follower has applied anvil's latest block).
// Run by tests/clients-live-e2e.sh, which starts both servers.
//
// Usage: node live.mjs <clients dir> <jitevm url> <anvil url>
//
// A difference fails the run unless it is listed with its reason where the
// check is made; each check also asserts a value it must have (the supply
// minted, the quote computed here, the nonce after N sends), so two
// servers agreeing on a wrong answer fail too. Ends with "N passed, N failed".
import { createRequire } from 'module';
import path from 'path';
import { compileContracts } from './contracts.mjs';
import { flatten } from './flatten.mjs';

const [clientsDir, jitevmUrl, anvilUrl] = process.argv.slice(2);
if (!anvilUrl) {
    console.error('usage: node live.mjs <clients dir> <jitevm url> <anvil url>');
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(clientsDir), 'package.json'));
const solc = require('solc');
const ethers = require('ethers');
const viem = require('viem');
const { privateKeyToAccount } = require('viem/accounts');

const contract = compileContracts(solc);
const MINTED = contract('MintedToken'), POOL = contract('SeededPool'), AGG = contract('Aggregator');

// anvil's first two dev accounts (its well-known test keys): ethers signs
// with the first, viem with the second.
const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const KEY1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const OTHER = '0x000000000000000000000000000000000000bEEF';
const E18 = 10n ** 18n;
const SUPPLY = 1_000_000n * E18, R0 = 1000n * E18, R1 = 5000n * E18;
const quote = (amountIn, r0 = R0, r1 = R1) => (amountIn * 997n * r1) / (r0 * 1000n + amountIn * 997n);
const POLL_MS = 100;

// ------------------------------------------------------------ the two sides
const chain = viem.defineChain({
    id: 31337, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [jitevmUrl] } },
});
// Each side as a dapp builds it: the network detected (eth_chainId), ethers'
// request batching on. cacheTimeout -1: ethers otherwise keeps identical
// requests' answers for 250 ms, and a read just after a block would then
// compare one side's earlier answer with the other's new one.
function side(url, tag) {
    const provider = new ethers.JsonRpcProvider(url, undefined, { pollingInterval: POLL_MS, cacheTimeout: -1 });
    const client = viem.createPublicClient({ chain, transport: viem.http(url), pollingInterval: POLL_MS });
    return { url, tag, provider, client };
}
const J = side(jitevmUrl, 'jitevm'), A = side(anvilUrl, 'anvil');

// The dapp's wallets: they send through jitevm only.
const wallet = new ethers.Wallet(KEY0, J.provider);
const account = privateKeyToAccount(KEY1);
const walletClient = viem.createWalletClient({ account, chain, transport: viem.http(jitevmUrl) });

// ------------------------------------------------------------ raw RPC (the test's own, not the dapp's)
let rpcId = 0;
async function rpc(url, method, params) {
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                   body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) });
    const body = await res.json();
    if (body.error) throw new Error(`${method}: ${body.error.code} ${body.error.message}`);
    return body.result;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ checks
let passed = 0, failed = 0, documented = 0;
const plain = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null');
function ok(name) { passed++; }
function bad(name, why) { failed++; console.log(`FAIL ${name}: ${why}`); }
// geth's estimator (jitevm's) stops within 1.5% above the minimum; anvil's
// searches to the exact minimum.
const withinEstimate = (j, a) => BigInt(j) >= BigInt(a) && BigInt(j) * 1000n <= BigInt(a) * 1015n + 1000n;

// same(name, j, a, {known, gas, expect}): j and a compared field by field.
// known: field -> why they may differ (printed when they do); gas: fields
// that are gas estimates; expect(j): a message when jitevm's value is wrong.
function same(name, j, a, opts = {}) {
    const fj = flatten(plain(j), '', {}), fa = flatten(plain(a), '', {});
    let good = true;
    for (const f of new Set([...Object.keys(fj), ...Object.keys(fa)])) {
        if (JSON.stringify(fj[f]) === JSON.stringify(fa[f])) continue;
        const key = f ? `${name}.${f}` : name;
        if (opts.gas?.includes(f) && fj[f] != null && fa[f] != null && withinEstimate(fj[f], fa[f])) {
            console.log(`  differs (documented) ${key}: jitevm ${fj[f]}, anvil ${fa[f]}: a gas estimate, geth's search stops within 1.5%, anvil's at the minimum`);
            documented++;
            continue;
        }
        if (opts.known?.[f]) {
            console.log(`  differs (documented) ${key}: jitevm ${JSON.stringify(fj[f])}, anvil ${JSON.stringify(fa[f])}: ${opts.known[f]}`);
            documented++;
            continue;
        }
        console.log(`FAIL ${key}: jitevm ${JSON.stringify(fj[f])}, anvil ${JSON.stringify(fa[f])}`);
        good = false;
    }
    const wrong = good && opts.expect ? opts.expect(plain(j)) : null;
    if (wrong) console.log(`FAIL ${name}: ${wrong}: ${JSON.stringify(plain(j))}`);
    if (good && !wrong) passed++;
    else failed++;
}
// both(name, fn, opts): fn(side) on jitevm's side, then anvil's; compared.
// A check whose fn throws fails (both throwing alike is no pass): the
// reverts asked for are caught and described by fn itself.
async function both(name, fn, opts = {}) {
    const answer = async (s) => { try { return await fn(s); } catch (e) { return { thrown: e.shortMessage ?? e.message }; } };
    const j = await answer(J);
    const a = await answer(A);
    if (j?.thrown !== undefined || a?.thrown !== undefined) {
        bad(name, `threw: jitevm ${JSON.stringify(j?.thrown ?? null)}, anvil ${JSON.stringify(a?.thrown ?? null)}`);
        return j;
    }
    same(name, j, a, opts);
    return j;
}

// synced(what): waits until jitevm's head is anvil's (the follower applied
// anvil's latest block), 15 s at most.
async function synced(what) {
    const t0 = Date.now();
    for (;;) {
        const [j, a] = await Promise.all([rpc(jitevmUrl, 'eth_blockNumber', []), rpc(anvilUrl, 'eth_blockNumber', [])]);
        if (j === a) return Number(a);
        if (Date.now() - t0 > 15000) { bad(`synced ${what}`, `jitevm at ${Number(j)}, anvil at ${Number(a)} after 15 s`); return Number(a); }
        await sleep(20);
    }
}

function ethersError(e) {
    return { code: e.code, reason: e.reason ?? null, revert: e.revert ? { name: e.revert.name, args: plain([...e.revert.args]) } : null,
             data: e.data ?? null };
}
function viemError(e) {
    const reverted = e.walk ? e.walk((c) => c instanceof viem.ContractFunctionRevertedError) : null;
    if (!reverted) return { name: e.name, message: e.shortMessage ?? e.message };
    return { name: reverted.name, reason: reverted.reason ?? null, errorName: reverted.data?.errorName ?? null,
             args: plain(reverted.data?.args ?? null), raw: reverted.raw ?? null };
}
const blockJSON = (b) => { const o = b.toJSON(); delete o.provider; return o; };
const txJSON = (t) => { const o = t.toJSON(); delete o.provider; return o; };

// The flow, in order (each step uses what the ones before made): a step
// that throws (a send refused, a revert where none was expected) fails the
// run, saying where, and ends it.
let section = '';
try {
    // ------------------------------------------------------------ 1. the network
    section = '1. the network';
    await both('ethers getNetwork', async (s) => { const n = await s.provider.getNetwork(); return { chainId: n.chainId, name: n.name }; },
               { expect: (j) => (j.chainId === '31337' ? null : 'not chain 31337') });
    await both('viem getChainId', (s) => s.client.getChainId(), { expect: (j) => (j === 31337 ? null : 'not chain 31337') });

    // ------------------------------------------------------------ 2. ethers deploys through jitevm
    section = '2. ethers deploys through jitevm';
    // Each deployment waits for its receipt (through jitevm) and the next is
    // sent at once: the nonce of each comes from jitevm ("pending").
    const sent = [];
    async function deploy(c, ...args) {
        const f = new ethers.ContractFactory(c.abi, c.initcode, wallet);
        const d = await f.deploy(...args);
        await d.waitForDeployment();
        sent.push(d.deploymentTransaction().hash);
        return d;
    }
    const tokenA = await deploy(MINTED, SUPPLY);
    const tokenB = await deploy(MINTED, SUPPLY);
    const ADDR_A = await tokenA.getAddress(), ADDR_B = await tokenB.getAddress();
    const pool = await deploy(POOL, ADDR_A, ADDR_B, R0, R1);
    const agg = await deploy(AGG);
    const ADDR_POOL = await pool.getAddress(), ADDR_AGG = await agg.getAddress();
    // The pool gets its reserves, viem's account some A to swap; ethers'
    // approves the pool (simulated below, never sent).
    for (const [t, fn, to, v] of [[tokenA, 'transfer', ADDR_POOL, R0], [tokenB, 'transfer', ADDR_POOL, R1],
                                  [tokenA, 'transfer', account.address, 100n * E18], [tokenA, 'approve', ADDR_POOL, 50n * E18]]) {
        const tx = await t[fn](to, v);
        await tx.wait();
        sent.push(tx.hash);
    }
    console.log(`ethers: 4 contracts deployed, 3 transfers and an approval sent through jitevm (token A ${ADDR_A}, pool ${ADDR_POOL})`);

    // ------------------------------------------------------------ 3. reads at the head, both libraries
    section = '3. reads at the head, both libraries';
    let head = await synced('after the deployments');
    const deployBlock = (await J.provider.getTransactionReceipt(sent[0])).blockNumber;
    await both('ethers getBlockNumber', (s) => s.provider.getBlockNumber(), { expect: (j) => (j === head ? null : `not ${head}`) });
    await both('viem getBlockNumber', (s) => s.client.getBlockNumber(), { expect: (j) => (j === String(head) ? null : `not ${head}`) });
    await both('ethers getBlock latest', async (s) => blockJSON(await s.provider.getBlock('latest')),
               { expect: (j) => (j.number === head && j.transactions.length === 1 ? null : 'not the head with its transaction') });
    await both('ethers getBlock latest with transactions', async (s) => {
        const b = await s.provider.getBlock('latest', true);
        return { ...blockJSON(b), prefetched: b.prefetchedTransactions.map(txJSON) };
    });
    await both('ethers getBlock older (forwarded)', async (s) => blockJSON(await s.provider.getBlock(deployBlock)),
               { expect: (j) => (j.transactions[0] === sent[0] ? null : 'not the block of the first deployment') });
    const olderHash = (await A.provider.getBlock(deployBlock)).hash;
    await both('ethers getBlock by hash (forwarded)', async (s) => blockJSON(await s.provider.getBlock(olderHash)),
               { expect: (j) => (j.number === deployBlock ? null : 'not the block asked') });
    await both('ethers getBlock earliest (forwarded)', async (s) => blockJSON(await s.provider.getBlock('earliest')));
    await both('viem getBlock latest', (s) => s.client.getBlock({ blockTag: 'latest' }));
    await both('viem getBlock latest with transactions', (s) => s.client.getBlock({ blockTag: 'latest', includeTransactions: true }));
    await both('viem getBlock older (forwarded)', (s) => s.client.getBlock({ blockNumber: BigInt(deployBlock), includeTransactions: true }));
    await both('viem getBlock by hash (forwarded)', (s) => s.client.getBlock({ blockHash: olderHash }));
    await both('viem getBlockTransactionCount (forwarded)', (s) => s.client.getBlockTransactionCount({ blockNumber: BigInt(deployBlock) }),
               { expect: (j) => (j === 1 ? null : 'not 1') });

    await both('ethers getBalance', (s) => s.provider.getBalance(wallet.address));
    await both('viem getBalance', (s) => s.client.getBalance({ address: account.address }));
    await both('ethers getCode', (s) => s.provider.getCode(ADDR_A), { expect: (j) => (j === MINTED.code ? null : 'not the runtime code') });
    await both('viem getCode', (s) => s.client.getCode({ address: ADDR_POOL }), { expect: (j) => (j === POOL.code ? null : 'not the runtime code') });
    // Token's slot 2: totalSupply; the pool's slot 0: reserve0.
    await both('ethers getStorageAt', (s) => s.provider.getStorage(ADDR_A, 2),
               { expect: (j) => (BigInt(j) === SUPPLY ? null : 'not the supply') });
    await both('viem getStorageAt', (s) => s.client.getStorageAt({ address: ADDR_POOL, slot: '0x0' }),
               { expect: (j) => (BigInt(j) === R0 ? null : 'not reserve0') });
    // The nonce after the sends: latest and pending (what both wallets ask).
    for (const tag of ['latest', 'pending']) {
        await both(`ethers getTransactionCount ${tag}`, (s) => s.provider.getTransactionCount(wallet.address, tag),
                   { expect: (j) => (j === sent.length ? null : `not ${sent.length}`) });
        await both(`viem getTransactionCount ${tag}`, (s) => s.client.getTransactionCount({ address: account.address, blockTag: tag }),
                   { expect: (j) => (j === 0 ? null : 'not 0') });
    }

    // Fees and estimates.
    // eth_gasPrice: geth (internal/ethapi's GasPrice) suggests the tip plus the
    // head's base fee, as jitevm does; anvil adds the next block's base fee.
    const headBaseFee = BigInt((await A.provider.getBlock('latest')).baseFeePerGas);
    const GAS_PRICE = 'geth\'s eth_gasPrice is the tip plus the head\'s base fee (jitevm\'s), anvil\'s the tip plus the next block\'s';
    const gasPriceIs = (v) => (BigInt(v) === headBaseFee + 10n ** 9n ? null : `gasPrice is not the head's base fee ${headBaseFee} + 1 gwei`);
    await both('ethers getFeeData', async (s) => (await s.provider.getFeeData()).toJSON(),
               { known: { gasPrice: GAS_PRICE }, expect: (j) => gasPriceIs(j.gasPrice) });
    await both('viem estimateFeesPerGas', (s) => s.client.estimateFeesPerGas());
    await both('viem estimateMaxPriorityFeePerGas', (s) => s.client.estimateMaxPriorityFeePerGas(),
               { expect: (j) => (j === String(10n ** 9n) ? null : 'not 1 gwei') });
    await both('viem getGasPrice', (s) => s.client.getGasPrice(), { known: { '': GAS_PRICE }, expect: gasPriceIs });
    await both('viem getFeeHistory', (s) => s.client.getFeeHistory({ blockCount: 4, rewardPercentiles: [25, 75] }));
    // What viem's wallet fills in before it signs.
    await both('viem prepareTransactionRequest', async (s) => {
        const p = await s.client.prepareTransactionRequest({ account, to: OTHER, value: 1n, chain });
        return { nonce: p.nonce, gas: p.gas, maxFeePerGas: p.maxFeePerGas, maxPriorityFeePerGas: p.maxPriorityFeePerGas, type: p.type };
    }, { known: { maxFeePerGas: 'viem asks eth_fillTransaction first: anvil fills the fees itself, jitevm does not serve the method (as in clients-e2e), so viem computes 1.2 x base fee + tip' },
         expect: (j) => (j.nonce === 0 && j.gas === '21000' ? null : 'not nonce 0, 21000 gas') });
    await both('ethers estimateGas transfer', (s) => tokenA.connect(s.provider).transfer.estimateGas(OTHER, E18, { from: wallet.address }),
               { gas: [''] });
    await both('viem estimateContractGas swap', (s) => s.client.estimateContractGas({ address: ADDR_POOL, abi: POOL.abi, functionName: 'swap',
                                                                                       args: [E18, 0n], account: wallet.address }),
               { gas: [''], expect: (j) => (BigInt(j) > 50000n ? null : 'not a swap\'s gas') });

    // Contract reads.
    await both('ethers Contract reads', async (s) => {
        const t = tokenA.connect(s.provider), p = pool.connect(s.provider);
        return { name: await t.name(), symbol: await t.symbol(), decimals: await t.decimals(), totalSupply: await t.totalSupply(),
                 balance: await t.balanceOf(wallet.address), reserve0: await p.reserve0(), quote: await p.quote(10n * E18) };
    }, { expect: (j) => (BigInt(j.totalSupply) === SUPPLY && BigInt(j.quote) === quote(10n * E18) ? null : 'not the supply or the quote') });
    await both('viem readContract', (s) => s.client.readContract({ address: ADDR_A, abi: MINTED.abi, functionName: 'balanceOf', args: [account.address] }),
               { expect: (j) => (BigInt(j) === 100n * E18 ? null : 'not the 100 A sent') });
    const multicalls = [
        { address: ADDR_A, abi: MINTED.abi, functionName: 'balanceOf', args: [ADDR_POOL] },
        { address: ADDR_B, abi: MINTED.abi, functionName: 'totalSupply' },
        { address: ADDR_POOL, abi: POOL.abi, functionName: 'quote', args: [E18] },
        { address: ADDR_POOL, abi: POOL.abi, functionName: 'fail', args: [1n] },
    ];
    const multicallExpect = (j) => (j[0].result === R0.toString() && j[2].result === quote(E18).toString() && j[3].status === 'failure'
        ? null : 'wrong results');
    await both('viem multicall (aggregate3 deployed)', (s) => s.client.multicall({ multicallAddress: ADDR_AGG, contracts: multicalls }),
               { expect: multicallExpect });
    // Deployless: viem runs Multicall3's creation code in eth_call (no `to`).
    await both('viem multicall (deployless)', (s) => s.client.multicall({ deployless: true, contracts: multicalls }),
               { expect: multicallExpect });
    await both('viem simulateContract swap', async (s) => (await s.client.simulateContract({
        address: ADDR_POOL, abi: POOL.abi, functionName: 'swap', args: [10n * E18, 0n], account: wallet.address })).result,
               { expect: (j) => (BigInt(j) === quote(10n * E18) ? null : 'not the constant-product quote') });
    // eth_simulateV1: the calls' results are compared; of the simulated
    // block, what anvil makes as geth does (gasLimit, gasUsed, miner). anvil
    // departs from geth in the rest (tests/simulate-e2e.sh lists how: the
    // block's number and timestamp, its hashes and roots, base fee, Prague's
    // fields; the logs' block and transaction hashes), and geth's newer
    // maxUsedGas of each call is jitevm's only.
    await both('viem simulateCalls (eth_simulateV1)', async (s) => {
        const r = await s.client.simulateCalls({ account: account.address, calls: [
            { to: ADDR_A, abi: MINTED.abi, functionName: 'transfer', args: [OTHER, E18] },
            { to: ADDR_A, abi: MINTED.abi, functionName: 'balanceOf', args: [OTHER] },
        ] });
        return { block: { gasLimit: r.block.gasLimit, gasUsed: r.block.gasUsed, miner: r.block.miner },
                 results: r.results.map((c) => ({ status: c.status, result: c.result, data: c.data, gasUsed: c.gasUsed,
                                                    logs: c.logs.map((l) => ({ address: l.address, topics: l.topics, data: l.data,
                                                                               logIndex: l.logIndex, transactionIndex: l.transactionIndex })) })) };
    }, { expect: (j) => (j.results[0].result === true && j.results[1].result === E18.toString() ? null : 'not the transfer and the balance after it') });

    // Reverts, decoded by each library: Error(string), Panic, a custom error.
    for (const code of [1n, 2n, 7n]) {
        await both(`ethers revert fail(${code})`, async (s) => {
            try { await pool.connect(s.provider).fail.staticCall(code); return 'no revert'; } catch (e) { return ethersError(e); }
        }, { expect: (j) => (j.code === 'CALL_EXCEPTION' ? null : 'not a CALL_EXCEPTION') });
        await both(`viem revert fail(${code})`, async (s) => {
            try { await s.client.simulateContract({ address: ADDR_POOL, abi: POOL.abi, functionName: 'fail', args: [code], account: account.address });
                  return 'no revert'; } catch (e) { return viemError(e); }
        }, { expect: (j) => (j.name === 'ContractFunctionRevertedError' ? null : 'not a decoded revert') });
    }
    await both('ethers revert transfer beyond the balance', async (s) => {
        try { await tokenA.connect(s.provider).transfer.staticCall(OTHER, SUPPLY, { from: account.address }); return 'no revert'; }
        catch (e) { return ethersError(e); }
    }, { expect: (j) => (j.reason === 'insufficient balance' ? null : 'reason not decoded') });
    await both('viem estimateContractGas revert', async (s) => {
        try { await s.client.estimateContractGas({ address: ADDR_POOL, abi: POOL.abi, functionName: 'swap', args: [E18, SUPPLY],
                                                  account: account.address }); return 'no revert'; }
        catch (e) { return viemError(e); }
    }, { expect: (j) => (j.errorName === 'Slippage' ? null : 'custom error not decoded') });

    // ------------------------------------------------------------ 4. viem: approve and swap through jitevm
    section = '4. viem: approve and swap through jitevm';
    {
        const approve = await walletClient.writeContract({ address: ADDR_A, abi: MINTED.abi, functionName: 'approve', args: [ADDR_POOL, 10n * E18] });
        const r1 = await J.client.waitForTransactionReceipt({ hash: approve, pollingInterval: POLL_MS });
        if (r1.status !== 'success') bad('viem approve', r1.status);
        // The dapp simulates the swap through jitevm as soon as the approval's
        // receipt came, then sends what the simulation returned.
        const { request, result } = await J.client.simulateContract({ address: ADDR_POOL, abi: POOL.abi, functionName: 'swap',
                                                                      args: [10n * E18, 0n], account });
        if (result !== quote(10n * E18)) bad('viem simulateContract swap', `${result}, not ${quote(10n * E18)}`);
        const swap = await walletClient.writeContract(request);
        const r2 = await J.client.waitForTransactionReceipt({ hash: swap, pollingInterval: POLL_MS });
        if (r2.status !== 'success') bad('viem swap', r2.status);
        head = await synced('after the swap');
        await both('viem swap receipt (forwarded)', (s) => s.client.getTransactionReceipt({ hash: swap }),
                   { expect: (j) => (j.logs.length === 2 && j.status === 'success' ? null : 'not 2 Transfer logs') });
        await both('viem swap transaction (forwarded)', (s) => s.client.getTransaction({ hash: swap }));
        await both('viem swap logs decoded', async (s) => viem.parseEventLogs({ abi: MINTED.abi,
            logs: (await s.client.getTransactionReceipt({ hash: swap })).logs }).map((l) => ({ event: l.eventName, args: l.args, address: l.address })));
        await both('viem balances after the swap', (s) => s.client.multicall({ multicallAddress: ADDR_AGG, contracts: [
            { address: ADDR_B, abi: MINTED.abi, functionName: 'balanceOf', args: [account.address] },
            { address: ADDR_A, abi: MINTED.abi, functionName: 'balanceOf', args: [account.address] },
            { address: ADDR_POOL, abi: POOL.abi, functionName: 'reserve0' },
        ] }), { expect: (j) => (BigInt(j[0].result) === quote(10n * E18) && BigInt(j[1].result) === 90n * E18 && BigInt(j[2].result) === R0 + 10n * E18
            ? null : 'not the swap\'s balances') });
        await both('viem getTransactionCount after the swap', (s) => s.client.getTransactionCount({ address: account.address }),
                   { expect: (j) => (j === 2 ? null : 'not 2') });
        console.log(`viem: approve and swap sent through jitevm, ${quote(10n * E18)} B out`);
    }

    // ------------------------------------------------------------ 5. ethers: a transfer, its receipt and logs
    section = '5. ethers: a transfer, its receipt and logs';
    {
        const tx = await tokenA.transfer(OTHER, 5n * E18);
        const receipt = await tx.wait();
        sent.push(tx.hash);
        await both('ethers transfer receipt (forwarded)', async (s) => {
            const r = (await s.provider.getTransactionReceipt(tx.hash)).toJSON();
            delete r.provider;
            return r;
        }, { expect: (j) => (j.status === 1 && j.logs.length === 1 ? null : 'not one log') });
        await both('ethers transfer transaction (forwarded)', async (s) => txJSON(await s.provider.getTransaction(tx.hash)));
        const filter = { address: ADDR_A, topics: [tokenA.interface.getEvent('Transfer').topicHash, null, ethers.zeroPadValue(OTHER, 32)],
                         fromBlock: deployBlock, toBlock: receipt.blockNumber };
        await both('ethers getLogs with a filter (forwarded)', async (s) => (await s.provider.getLogs(filter)).map((l) => { const o = l.toJSON(); delete o.provider; return o; }),
                   { expect: (j) => (j.length === 1 && j[0].transactionHash === tx.hash ? null : 'not the transfer\'s log') });
        await both('ethers queryFilter', async (s) => (await tokenA.connect(s.provider).queryFilter(tokenA.filters.Transfer(null, OTHER), deployBlock))
            .map((e) => ({ args: [...e.args], tx: e.transactionHash, block: e.blockNumber, index: e.index })));
        await both('viem getContractEvents', (s) => s.client.getContractEvents({ address: ADDR_A, abi: MINTED.abi, eventName: 'Transfer',
                                                                                args: { to: OTHER }, fromBlock: BigInt(deployBlock) }));
        await both('viem getLogs with an event', (s) => s.client.getLogs({ address: [ADDR_A, ADDR_B], event: viem.getAbiItem({ abi: MINTED.abi, name: 'Transfer' }),
                                                                          fromBlock: BigInt(deployBlock), toBlock: 'latest' }));
        // The state change, through jitevm's own eth_call once its follower applied the block.
        head = await synced('after the transfer');
        await both('ethers balanceOf after the transfer', (s) => tokenA.connect(s.provider).balanceOf(OTHER),
                   { expect: (j) => (BigInt(j) === 5n * E18 ? null : 'not the 5 A sent') });
        await both('viem readContract after the transfer', (s) => s.client.readContract({ address: ADDR_A, abi: MINTED.abi, functionName: 'balanceOf',
                                                                                         args: [wallet.address] }),
                   { expect: (j) => (BigInt(j) === SUPPLY - R0 - 100n * E18 - 5n * E18 ? null : 'not the supply less what was sent') });
        await both('ethers getTransactionCount after the transfer', (s) => s.provider.getTransactionCount(wallet.address, 'pending'),
                   { expect: (j) => (j === sent.length ? null : `not ${sent.length}`) });
    }

    // ------------------------------------------------------------ 6. events watched over a few blocks (filters forwarded)
    section = '6. events watched over a few blocks (filters forwarded)';
    {
        // ethers: contract.on (eth_newFilter + eth_getFilterChanges, polled per block) on each side.
        const got = { jitevm: [], anvil: [] };
        const listeners = [];
        for (const s of [J, A]) {
            const t = tokenA.connect(s.provider);
            const l = (from, to, value, ev) => got[s.tag].push({ from, to, value, tx: ev.log.transactionHash, block: ev.log.blockNumber, index: ev.log.index });
            await t.on('Transfer', l);
            listeners.push([t, l]);
        }
        // viem: watchContractEvent (a filter polled) on each side.
        const vgot = { jitevm: [], anvil: [] };
        const unwatch = [J, A].map((s) => s.client.watchContractEvent({ address: ADDR_A, abi: MINTED.abi, eventName: 'Transfer', pollingInterval: POLL_MS,
                                                                        onLogs: (logs) => vgot[s.tag].push(...logs.map((l) => ({ args: l.args, tx: l.transactionHash, index: l.logIndex }))),
                                                                        onError: (e) => bad(`viem watchContractEvent ${s.tag}`, e.shortMessage ?? e.message) }));
        await sleep(4 * POLL_MS); // the filters installed before the first block
        const amounts = [1n, 2n, 3n];
        for (const v of amounts) {
            const tx = await tokenA.transfer(OTHER, v);
            await tx.wait();
            sent.push(tx.hash);
        }
        for (const v of amounts) {
            const h = await walletClient.writeContract({ address: ADDR_A, abi: MINTED.abi, functionName: 'transfer', args: [OTHER, v] });
            await J.client.waitForTransactionReceipt({ hash: h, pollingInterval: POLL_MS });
        }
        // ethers polls a filter once per new block, and a block that comes
        // while a poll is in flight is not seen by it (subscriber-filterid.js
        // listens for the next one once the poll is done): the last events
        // may wait for one more block. The chain goes on: a block (empty,
        // mined on anvil, the chain's producer) each second while waiting.
        const t0 = Date.now();
        let mined = 0;
        while (Date.now() - t0 < 10000 && [got.jitevm, got.anvil, vgot.jitevm, vgot.anvil].some((g) => g.length < 6)) {
            await sleep(POLL_MS);
            if (Date.now() - t0 > 1000 * (mined + 1)) { await rpc(anvilUrl, 'evm_mine', []); mined++; }
        }
        for (const [t, l] of listeners) await t.off('Transfer', l);
        for (const u of unwatch) u();
        console.log(`events: ethers contract.on got ${got.jitevm.length} through jitevm, ${got.anvil.length} from anvil; ` +
                    `viem watchContractEvent ${vgot.jitevm.length} and ${vgot.anvil.length} (${mined} empty blocks mined while waiting)`);
        same('ethers contract.on Transfer over 6 blocks', got.jitevm, got.anvil,
             { expect: (j) => (j.length === 6 && j.map((e) => BigInt(e.value)).join() === '1,2,3,1,2,3' ? null : 'not the 6 transfers') });
        same('viem watchContractEvent Transfer over 6 blocks', vgot.jitevm, vgot.anvil,
             { expect: (j) => (j.length === 6 && j.map((e) => BigInt(e.args.value)).join() === '1,2,3,1,2,3' ? null : 'not the 6 transfers') });
        head = await synced('after the watched transfers');
        await both('viem getTransactionCount after the watched transfers', (s) => s.client.getTransactionCount({ address: account.address, blockTag: 'pending' }),
                   { expect: (j) => (j === 5 ? null : 'not 5') });
        await both('ethers balanceOf after the watched transfers', (s) => tokenA.connect(s.provider).balanceOf(OTHER),
                   { expect: (j) => (BigInt(j) === 5n * E18 + 12n ? null : 'not 5 A + 12') });
    }

    // ------------------------------------------------------------ 7. back to back: a second send before the first is mined into jitevm's head
    section = '7. back to back: a second send before the first is mined into jitevm\'s head';
    // Two transfers sent without waiting in between (ethers) and two with
    // viem: each wallet takes its nonce from jitevm ("pending").
    {
        const before = await rpc(anvilUrl, 'eth_getTransactionCount', [wallet.address, 'latest']);
        const t1 = await tokenA.transfer(OTHER, 1n);
        const t2 = await tokenA.transfer(OTHER, 1n);
        const [r1, r2] = await Promise.all([t1.wait(), t2.wait()]);
        if (t2.nonce !== t1.nonce + 1 || Number(before) !== t1.nonce) bad('ethers back-to-back nonces', `${before}, ${t1.nonce}, ${t2.nonce}`);
        else ok();
        const v1 = await walletClient.sendTransaction({ to: OTHER, value: 1n });
        const v2 = await walletClient.sendTransaction({ to: OTHER, value: 1n });
        const [x1, x2] = await Promise.all([v1, v2].map((hash) => J.client.waitForTransactionReceipt({ hash, pollingInterval: POLL_MS })));
        const [n1, n2] = await Promise.all([v1, v2].map(async (hash) => (await J.client.getTransaction({ hash })).nonce));
        if (n2 !== n1 + 1) bad('viem back-to-back nonces', `${n1}, ${n2}`);
        else ok();
        if (![r1, r2].every((r) => r.status === 1) || ![x1, x2].every((r) => r.status === 'success')) bad('back-to-back receipts', 'not all succeeded');
        else ok();
        await synced('at the end');
        await both('ethers getBalance of OTHER at the end', (s) => s.provider.getBalance(OTHER), { expect: (j) => (j === '2' ? null : 'not 2 wei') });
    }
} catch (e) {
    bad(`the flow, at ${section}`, e.shortMessage ? `${e.shortMessage} (${e.details ?? e.info?.error?.message ?? e.code ?? ''})` : e.stack);
}

J.provider.destroy();
A.provider.destroy();
console.log(`clients-live: ${passed} passed, ${failed} failed; ${documented} documented field differences`);
process.exit(failed ? 1 : 0);
