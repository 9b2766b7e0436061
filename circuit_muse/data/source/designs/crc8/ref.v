module crc8 (
    input clk, rst, init, din_valid, din,
    output reg [7:0] crc
);
    // bitwise long division: append the bit, reduce by the polynomial when the top bit falls out
    reg [8:0] t;
    always @(posedge clk) begin
        if (rst || init) crc <= 0;
        else if (din_valid) begin
            t = {crc, 1'b0};
            t[8] = t[8] ^ din;
            if (t[8]) t = t ^ 9'h107;
            crc <= t[7:0];
        end
    end
endmodule
