// Self-checking VerilogEval-style testbench for examples/counter.v.
// The engine rewrites the result line to carry a per-run nonce before it runs.
`timescale 1ns/1ps
module tb;
  reg clk = 0, rst_n = 0, en = 0;
  wire [3:0] q;
  integer errors = 0, samples = 0;
  reg [3:0] model = 0;
  counter dut(.clk(clk), .rst_n(rst_n), .en(en), .q(q));
  always #5 clk = ~clk;
  initial begin
    #12 rst_n = 1;
    repeat (60) begin
      @(negedge clk) en = $random;
      @(posedge clk) #1 if (en) model = model + 1;
      samples = samples + 1;
      if (q !== model) begin
        errors = errors + 1;
        if (errors == 1) $display("Hint: Output 'q' has mismatches. First mismatch occurred at time %0t.", $time);
      end
    end
    $display("Mismatches: %0d in %0d samples", errors, samples);
    $finish;
  end
endmodule
