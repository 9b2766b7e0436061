// Serial-in, parallel-out deserializer. Bits arrive MSB first on sin when sin_valid is 1.
// After WIDTH accepted bits, data_out holds the word and word_valid pulses for one cycle.
module sipo_deserializer #(
    parameter integer WIDTH = 8,
    parameter integer CW    = 3      // $clog2(WIDTH)
) (
    input  wire             clk,
    input  wire             rst,       // synchronous, active high
    input  wire             sin,
    input  wire             sin_valid,
    output reg  [WIDTH-1:0] data_out,
    output reg              word_valid
);
    localparam [CW-1:0] LAST = WIDTH[CW-1:0] - 1'b1;

    reg [WIDTH-1:0] shreg;
    reg [CW-1:0]    bit_cnt;

    always @(posedge clk) begin
        if (rst) begin
            shreg      <= {WIDTH{1'b0}};
            bit_cnt    <= {CW{1'b0}};
            data_out   <= {WIDTH{1'b0}};
            word_valid <= 1'b0;
        end else begin
            word_valid <= 1'b0;
            if (sin_valid) begin
                shreg <= {shreg[WIDTH-2:0], sin};
                if (bit_cnt == LAST) begin
                    bit_cnt    <= {CW{1'b0}};
                    data_out   <= {shreg[WIDTH-2:0], sin};
                    word_valid <= 1'b1;
                end else begin
                    bit_cnt <= bit_cnt + 1'b1;
                end
            end
        end
    end
endmodule
