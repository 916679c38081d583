// SPDX-License-Identifier: MIT
// The contracts tests/trace/compare.mjs loads into jitevm and anvil beside
// tests/clients/Contracts.sol's token, pool and aggregator (runtime code
// through anvil_setCode; no constructor runs).
pragma solidity ^0.8.20;

// Storage to read, write, revert after reading, and ways to fail.
contract Vault {
    mapping(uint256 => uint256) public slots;  // slot 0
    uint256 public counter;                    // slot 1

    error Reverted(uint256 value);

    function readThenRevert(uint256 k) external view returns (uint256) {
        revert Reverted(slots[k]);
    }
    function bump(uint256 k) external payable returns (uint256) {
        counter += 1;
        slots[k] = counter;
        return counter;
    }
    function clear(uint256 k) external { delete slots[k]; }
    function burn() external { selfdestruct(payable(msg.sender)); }
    function spin(uint256 n) external pure returns (uint256 x) {
        for (uint256 i = 0; i < n; i++) x = uint256(keccak256(abi.encode(x, i)));
    }
    function exhaust() external { while (true) counter++; }
    function invalidOp() external pure { assembly { invalid() } }
}

contract Child {
    constructor() payable {}
    function hi() external pure returns (uint256) { return 7; }
}

// Calls that reach other accounts: a read that reverts inside try/catch,
// creations, value sends it cannot afford, recursion, account queries.
contract Prober {
    function probe(address v, uint256 k) external returns (bool ok) {
        try Vault(v).readThenRevert(k) returns (uint256) { ok = true; } catch { ok = false; }
    }
    function bumpThenProbe(address v, uint256 k) external returns (bool) {
        Vault(v).bump(k);
        return this.probe(v, k + 1);
    }
    function deploy(uint256 salt) external payable returns (address) {
        return address(new Child{salt: bytes32(salt), value: msg.value}());
    }
    function deployPlain() external returns (address) { return address(new Child()); }
    // A CREATE refused for its value (the frame geth reports), and a CREATE2
    // whose address is taken: both make the whole call revert.
    function deployTooRich() external returns (address) {
        return address(new Child{value: address(this).balance + 1}());
    }
    function deployTwice(uint256 salt) external returns (address) {
        new Child{salt: bytes32(salt)}();
        return address(new Child{salt: bytes32(salt)}());
    }
    function sendValue(address payable to, uint256 amount) external payable returns (bool ok) {
        (ok, ) = to.call{value: amount}("");
    }
    function recurse(uint256 n) external returns (uint256) {
        if (n == 0) return 0;
        return this.recurse(n - 1) + 1;
    }
    function accountInfo(address a) external view returns (uint256, bytes32, uint256) {
        return (a.balance, a.codehash, a.code.length);
    }
}
