// tests/clients/Contracts.sol compiled with solc-js, for compare.mjs and
// live.mjs: contract(name) is its ABI, runtime code and init code.
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';

export function compileContracts(solc) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const source = fs.readFileSync(path.join(here, 'Contracts.sol'), 'utf8');
    const compiled = JSON.parse(solc.compile(JSON.stringify({
        language: 'Solidity',
        sources: { 'Contracts.sol': { content: source } },
        settings: {
            evmVersion: 'cancun',
            optimizer: { enabled: true, runs: 200 },
            outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
        },
    })));
    for (const e of compiled.errors || []) if (e.severity === 'error') throw new Error(e.formattedMessage);
    return (name) => ({
        abi: compiled.contracts['Contracts.sol'][name].abi,
        code: '0x' + compiled.contracts['Contracts.sol'][name].evm.deployedBytecode.object,
        initcode: '0x' + compiled.contracts['Contracts.sol'][name].evm.bytecode.object,
    });
}
