// expect: mismatch
// Control: a dotted name that starts at the module's own struct variable is not a hierarchical escape.
module top(input logic clk, input logic a, output logic y);
  typedef struct packed { logic v; logic w; } pair_t;
  pair_t p;
  always_ff @(posedge clk) begin p.v <= ~a; p.w <= a; end
  assign y = p.v;
endmodule
