"""Prints the text rapidocr reads in an image, one detected line per output line, in rapidocr's
own order: the baseline that bench/ocr.sh runs beside folio on the same images."""
import sys

from rapidocr import RapidOCR

result = RapidOCR()(sys.argv[1])
print("\n".join(result.txts or ()))
