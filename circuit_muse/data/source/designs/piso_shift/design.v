// Parallel-in, serial-out shift register (MSB first).
// load captures data_in; each later enabled cycle shifts one bit out on sout.
module piso_shift #(
    parameter integer WIDTH = 8
) (
    input  wire             clk,
    input  wire             rst_n,     // synchronous, active low
    input  wire             load,
    input  wire             shift_en,
    input  wire [WIDTH-1:0] data_in,
    output wire             sout
);
    reg [WIDTH-1:0] sreg;

    always @(posedge clk) begin
        if (!rst_n)
            sreg <= {WIDTH{1'b0}};
        else if (load)
            sreg <= data_in;
        else if (shift_en)
            sreg <= {sreg[WIDTH-2:0], 1'b0};
    end

    assign sout = sreg[WIDTH-1];
endmodule
