"""`convert_text_backbone.from_text_backbone` starts the text side from a Gemma-3 causal LM: with the cross-attention silenced, SLIP's text
encoder and decoder reproduce the backbone exactly, and the new parameters are initialised (finite, non-zero)."""

import pytest
import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

from slip_sensor import SlipForConditionalGeneration, SlipModel
from slip_sensor.convert_text_backbone import from_text_backbone
from tests.models.test_modeling_slip import SlipModelTester


@pytest.fixture(scope="module")
def backbone_dir(tmp_path_factory):
    text_config = SlipModelTester().get_config().text_config.to_dict()
    text_config["initializer_range"] = 0.2
    torch.manual_seed(0)
    backbone = Gemma3ForCausalLM(Gemma3TextConfig(**text_config)).eval()
    directory = tmp_path_factory.mktemp("gemma")
    backbone.save_pretrained(directory)
    return directory, backbone


def test_text_encoder_equals_backbone_hidden_state(backbone_dir):
    directory, backbone = backbone_dir
    config = SlipModelTester().get_config()
    model = from_text_backbone(SlipModel, str(directory), config=config).eval()
    ids = torch.randint(4, 99, (2, 7))
    ids[:, 0] = 2
    expected = backbone(ids, output_hidden_states=True).hidden_states[config.split_layer]
    torch.testing.assert_close(model.encode_text(ids, torch.ones_like(ids)), expected, rtol=0, atol=0)


def test_decoder_equals_backbone_when_cross_attention_is_silent(backbone_dir):
    directory, backbone = backbone_dir
    tester = SlipModelTester()
    model = from_text_backbone(SlipForConditionalGeneration, str(directory), config=tester.get_config()).eval()
    new_parameters = [model.slip.sensor_model.pooler.queries, model.text_decoder.cross_attention_layers[0].attention.q_proj.weight]
    assert all(torch.isfinite(p).all() and p.abs().sum() > 0 for p in new_parameters)
    with torch.no_grad():
        for block in model.text_decoder.cross_attention_layers:
            block.attention.o_proj.weight.zero_()
    text = tester.text_inputs()
    ours = model(**tester.sensor_inputs(), **text, return_logits=True).logits
    expected = backbone(**text).logits
    real = text["attention_mask"].bool()
    torch.testing.assert_close(ours[real], expected[real], rtol=1e-5, atol=1e-5)
