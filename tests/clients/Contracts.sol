// SPDX-License-Identifier: MIT
// The contracts tests/clients/compare.mjs loads into jitevm and anvil
// (runtime code through anvil_setCode, storage through anvil_setStorageAt:
// no constructor runs, so every value lives in storage), and those
// tests/clients/live.mjs deploys with transactions (MintedToken,
// SeededPool, Aggregator: their constructors set what compare.mjs writes).
pragma solidity ^0.8.20;

// An ERC-20 with balances at slot 0 and allowances at slot 1 (the layout
// the test writes directly).
contract Token {
    mapping(address => uint256) public balanceOf;                      // slot 0
    mapping(address => mapping(address => uint256)) public allowance;  // slot 1
    uint256 public totalSupply;                                        // slot 2

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function name() external pure returns (string memory) { return "Test Token"; }
    function symbol() external pure returns (string memory) { return "TT"; }
    function decimals() external pure returns (uint8) { return 18; }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "insufficient balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        require(allowance[from][msg.sender] >= value, "insufficient allowance");
        require(balanceOf[from] >= value, "insufficient balance");
        allowance[from][msg.sender] -= value;
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
        return true;
    }
}

interface IToken {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function transfer(address to, uint256 value) external returns (bool);
}

// A constant-product pool of two tokens: reserves at slots 0 and 1, the
// tokens at slots 2 and 3.
contract Pool {
    uint256 public reserve0;  // slot 0
    uint256 public reserve1;  // slot 1
    address public token0;    // slot 2
    address public token1;    // slot 3

    error Slippage(uint256 amountOut, uint256 minOut);

    function quote(uint256 amountIn) public view returns (uint256) {
        uint256 inWithFee = amountIn * 997;
        return inWithFee * reserve1 / (reserve0 * 1000 + inWithFee);
    }

    // Takes amountIn of token0 (approved beforehand), pays out token1.
    function swap(uint256 amountIn, uint256 minOut) external returns (uint256 amountOut) {
        amountOut = quote(amountIn);
        if (amountOut < minOut) revert Slippage(amountOut, minOut);
        IToken(token0).transferFrom(msg.sender, address(this), amountIn);
        IToken(token1).transfer(msg.sender, amountOut);
        reserve0 += amountIn;
        reserve1 -= amountOut;
    }

    function fail(uint256 code) external pure {
        if (code == 1) revert("pool: failed on purpose");
        if (code == 2) assert(false);
        revert Slippage(code, 0);
    }
}

// Our own aggregate3 (the Multicall3 interface viem's multicall calls):
// each call's success and return data, failing the whole call only when a
// call that may not fail does.
contract Aggregator {
    struct Call3 { address target; bool allowFailure; bytes callData; }
    struct Result { bool success; bytes returnData; }

    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory results) {
        results = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory data) = calls[i].target.call(calls[i].callData);
            require(ok || calls[i].allowFailure, "aggregate3: call failed");
            results[i] = Result(ok, data);
        }
    }

    function getBlockNumber() external view returns (uint256) { return block.number; }

    // For the traces: a STATICCALL and a DELEGATECALL.
    function tryStatic(address target, bytes calldata data) external view returns (bool, bytes memory) {
        return target.staticcall(data);
    }
    function tryDelegate(address target, bytes calldata data) external returns (bool, bytes memory) {
        return target.delegatecall(data);
    }
}

// Deployed by a transaction (tests/clients/live.mjs): the supply minted to
// the deployer.
contract MintedToken is Token {
    constructor(uint256 supply) {
        balanceOf[msg.sender] = supply;
        totalSupply = supply;
        emit Transfer(address(0), msg.sender, supply);
    }
}

// Deployed by a transaction: the tokens and the reserves it will be sent.
contract SeededPool is Pool {
    constructor(address a, address b, uint256 r0, uint256 r1) {
        token0 = a;
        token1 = b;
        reserve0 = r0;
        reserve1 = r1;
    }
}
