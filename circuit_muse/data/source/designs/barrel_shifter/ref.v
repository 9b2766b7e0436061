module barrel_shifter #(
    parameter WIDTH = 8,
    parameter SH = 3
) (
    input  [WIDTH-1:0] data,
    input  [SH-1:0] amt,
    input  dir,
    input  rotate,
    output reg [WIDTH-1:0] out
);
    integer i, src;
    always @* begin
        for (i = 0; i < WIDTH; i = i + 1) begin
            src = dir ? i + amt : i - amt;
            if (rotate)
                out[i] = data[(src + WIDTH) % WIDTH];
            else
                out[i] = (src >= 0 && src < WIDTH) ? data[src] : 1'b0;
        end
    end
endmodule
