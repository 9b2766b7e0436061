// expect: unsafe line=9
// `tb` is declared only inside a function: outside it, a tool resolves tb.errors upward, into the
// bench. The module is never instantiated, so Icarus elaborates it as a root of its own.
module sneaky(input x);
  function automatic f(input v);
    reg tb;
    f = v;
  endfunction
  initial forever #1 tb.errors = 0;
endmodule
module top(input clk, input a, output y);
  assign y = 1'b0;
endmodule
