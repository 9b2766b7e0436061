// Hex digit to seven-segment decoder. seg = {g, f, e, d, c, b, a}.
// ACTIVE_LOW = 1 for common-anode displays (a lit segment is driven 0).
module seven_seg #(
    parameter integer ACTIVE_LOW = 0
) (
    input  wire [3:0] hex,
    output wire [6:0] seg
);
    reg [6:0] seg_on;   // 1 = segment lit

    always @* begin
        case (hex)
            4'h0: seg_on = 7'b0111111;
            4'h1: seg_on = 7'b0000110;
            4'h2: seg_on = 7'b1011011;
            4'h3: seg_on = 7'b1001111;
            4'h4: seg_on = 7'b1100110;
            4'h5: seg_on = 7'b1101101;
            4'h6: seg_on = 7'b1111101;
            4'h7: seg_on = 7'b0000111;
            4'h8: seg_on = 7'b1111111;
            4'h9: seg_on = 7'b1101111;
            4'hA: seg_on = 7'b1110111;
            4'hB: seg_on = 7'b1111100;
            4'hC: seg_on = 7'b0111001;
            4'hD: seg_on = 7'b1011110;
            4'hE: seg_on = 7'b1111001;
            default: seg_on = 7'b1110001;   // F
        endcase
    end

    assign seg = (ACTIVE_LOW != 0) ? ~seg_on : seg_on;
endmodule
