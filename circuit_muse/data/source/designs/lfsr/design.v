// Fibonacci LFSR (maximal length for the default taps). Shifts left; the feedback bit is the XNOR of the
// tap bits, so the all-zeros state is legal and the lock-up state is all ones (never reached from SEED).
module lfsr #(
    parameter integer WIDTH = 8,
    parameter [WIDTH-1:0] TAPS = 8'hB8,   // bit i set: state[i] feeds the XNOR (x^8 + x^6 + x^5 + x^4 + 1)
    parameter [WIDTH-1:0] SEED = {WIDTH{1'b0}}
) (
    input  wire             clk,
    input  wire             rst,       // synchronous, active high: load SEED
    input  wire             en,
    output reg  [WIDTH-1:0] state
);
    wire feedback = ~^(state & TAPS);

    always @(posedge clk) begin
        if (rst)
            state <= SEED;
        else if (en)
            state <= {state[WIDTH-2:0], feedback};
    end
endmodule
