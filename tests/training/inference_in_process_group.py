"""Each of 2 processes (gloo) embeds and scores its own, different batch with a SLIP model: the results must be the
ones a lone process gets, with no collective call (a gather would mix in the other process's batch, a barrier-style
collective would hang when only one process runs inference).

    torchrun --nproc_per_node 2 tests/training/inference_in_process_group.py OUT
"""

import sys

import torch
import torch.distributed as dist
from safetensors.torch import save_file

from tests.models.test_modeling_slip import SlipModelTester


def main(out_dir: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    from slip_sensor import SlipForConditionalGeneration

    tester = SlipModelTester(batch_size=3)
    torch.manual_seed(0)
    model = SlipForConditionalGeneration(tester.get_config()).eval()
    inputs = {**tester.sensor_inputs(seed=rank), **tester.text_inputs(seed=rank)}
    with torch.no_grad():
        outputs = model(**inputs, labels=inputs["input_ids"])
        logits = model.slip.contrastive_logits(model.slip.get_sensor_features(**tester.sensor_inputs(seed=rank)),
                                               model.slip.get_text_features(**tester.text_inputs(seed=rank)))
    save_file({"logits_per_text": outputs.logits_per_text.contiguous(), "contrastive_loss": outputs.contrastive_loss,
               "caption_loss": outputs.caption_loss, "contrastive_logits": logits.contiguous()},
              f"{out_dir}/rank{rank}.safetensors")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
