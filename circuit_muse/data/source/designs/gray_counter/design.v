// Gray-code counter: a binary counter with a registered Gray-coded output, so gray changes by exactly one
// bit per increment (safe to sample from another clock domain through a synchronizer).
module gray_counter #(
    parameter integer WIDTH = 4
) (
    input  wire             clk,
    input  wire             rst_n,    // asynchronous, active low
    input  wire             inc,
    output reg  [WIDTH-1:0] gray
);
    reg  [WIDTH-1:0] bin;
    wire [WIDTH-1:0] bin_next  = bin + {{(WIDTH-1){1'b0}}, inc};
    wire [WIDTH-1:0] gray_next = bin_next ^ (bin_next >> 1);

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            bin  <= {WIDTH{1'b0}};
            gray <= {WIDTH{1'b0}};
        end else begin
            bin  <= bin_next;
            gray <= gray_next;
        end
    end
endmodule
