module popcount #(
    parameter WIDTH = 8,
    parameter CW = 4
) (
    input  [WIDTH-1:0] data,
    output [CW-1:0] ones
);
    reg [WIDTH-1:0] v;
    integer zeros, i;
    always @* begin
        zeros = 0;
        v = ~data;
        for (i = 0; i < WIDTH; i = i + 1)
            if (v[i]) zeros = zeros + 1;
    end
    assign ones = WIDTH - zeros;
endmodule
