// N-to-2**N one-hot decoder with enable. When en is 0 all outputs are 0.
module decoder #(
    parameter integer N = 3
) (
    input  wire [N-1:0]      sel,
    input  wire              en,
    output wire [(1<<N)-1:0] y
);
    localparam integer M = 1 << N;

    assign y = en ? ({{(M-1){1'b0}}, 1'b1} << sel) : {M{1'b0}};
endmodule
