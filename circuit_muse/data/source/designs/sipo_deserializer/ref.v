module sipo_deserializer #(
    parameter WIDTH = 8,
    parameter CW = 3
) (
    input clk, rst, sin, sin_valid,
    output reg [WIDTH-1:0] data_out,
    output reg word_valid
);
    reg [WIDTH-1:0] acc;
    integer n;
    always @(posedge clk) begin
        if (rst) begin
            acc = 0; n = 0; data_out <= 0; word_valid <= 0;
        end else begin
            word_valid <= 0;
            if (sin_valid) begin
                acc = (acc << 1) | sin;
                n = n + 1;
                if (n == WIDTH) begin
                    n = 0;
                    data_out <= acc;
                    word_valid <= 1;
                end
            end
        end
    end
endmodule
