# CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): the check value New Era's "safe
# mode" frames use, cheap enough to compute per byte on a Cortex-M0+.


def crc16(data, crc=0xFFFF):
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    return crc
