// Barrel shifter: shift or rotate data by amt positions in one cycle (combinational).
//   dir    = 0: left, 1: right
//   rotate = 1: bits shifted out re-enter at the other end; 0: logical shift (zeros shifted in)
module barrel_shifter #(
    parameter integer WIDTH = 8,
    parameter integer SH    = 3      // $clog2(WIDTH)
) (
    input  wire [WIDTH-1:0] data,
    input  wire [SH-1:0]    amt,
    input  wire             dir,
    input  wire             rotate,
    output reg  [WIDTH-1:0] out
);
    // Shifting the doubled word and taking one half gives a rotation without a loop.
    wire [2*WIDTH-1:0] dbl   = {data, data};
    wire [2*WIDTH-1:0] rot_r = dbl >> amt;
    wire [2*WIDTH-1:0] rot_l = dbl << amt;

    always @* begin
        case ({rotate, dir})
            2'b00:   out = data << amt;
            2'b01:   out = data >> amt;
            2'b10:   out = rot_l[2*WIDTH-1:WIDTH];
            default: out = rot_r[WIDTH-1:0];
        endcase
    end
endmodule
