module seven_seg #(
    parameter ACTIVE_LOW = 0
) (
    input  [3:0] hex,
    output [6:0] seg
);
    // one byte per digit, digit 0 in the low byte
    localparam [127:0] LUT = {8'h71, 8'h79, 8'h5E, 8'h39, 8'h7C, 8'h77, 8'h6F, 8'h7F,
                              8'h07, 8'h7D, 8'h6D, 8'h66, 8'h4F, 8'h5B, 8'h06, 8'h3F};
    wire [7:0] b = LUT >> (hex * 8);
    assign seg = ACTIVE_LOW ? ~b[6:0] : b[6:0];
endmodule
