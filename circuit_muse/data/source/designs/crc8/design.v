// Serial CRC-8 (polynomial x^8 + x^2 + x + 1, 0x07), one data bit per cycle, MSB first, no reflection.
// init reloads the CRC register with 0 (start of a new message).
module crc8 (
    input  wire       clk,
    input  wire       rst,      // synchronous, active high
    input  wire       init,
    input  wire       din_valid,
    input  wire       din,
    output reg  [7:0] crc
);
    localparam [7:0] POLY = 8'h07;

    wire feedback = crc[7] ^ din;

    always @(posedge clk) begin
        if (rst || init)
            crc <= 8'h00;
        else if (din_valid)
            crc <= {crc[6:0], 1'b0} ^ (feedback ? POLY : 8'h00);
    end
endmodule
