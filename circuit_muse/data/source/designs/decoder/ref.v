module decoder #(
    parameter N = 3
) (
    input  [N-1:0]      sel,
    input               en,
    output reg [(1<<N)-1:0] y
);
    integer i;
    always @* begin
        for (i = 0; i < (1 << N); i = i + 1)
            y[i] = en && (sel == i);
    end
endmodule
