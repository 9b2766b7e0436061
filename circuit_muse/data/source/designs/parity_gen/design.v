// Parity generator: parity makes the total number of ones in {data, parity} even (ODD = 0) or odd (ODD = 1).
module parity_gen #(
    parameter integer WIDTH = 8,
    parameter integer ODD   = 0
) (
    input  wire [WIDTH-1:0] data,
    output wire             parity
);
    localparam [0:0] ODD_BIT = ODD[0];

    assign parity = (^data) ^ ODD_BIT;
endmodule
